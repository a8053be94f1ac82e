file(REMOVE_RECURSE
  "CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.c.o"
  "CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.c.o.d"
  "CMakeFiles/fuzz_checkpoint.dir/replay.c.o"
  "CMakeFiles/fuzz_checkpoint.dir/replay.c.o.d"
  "fuzz_checkpoint"
  "fuzz_checkpoint.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_checkpoint.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
