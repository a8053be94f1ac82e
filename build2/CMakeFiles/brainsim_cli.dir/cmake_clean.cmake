file(REMOVE_RECURSE
  "CMakeFiles/brainsim_cli.dir/src/cli/main.c.o"
  "CMakeFiles/brainsim_cli.dir/src/cli/main.c.o.d"
  "brainsim"
  "brainsim.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/brainsim_cli.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
