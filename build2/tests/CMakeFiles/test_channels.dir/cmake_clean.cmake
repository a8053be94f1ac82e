file(REMOVE_RECURSE
  "CMakeFiles/test_channels.dir/unit/test_channels.c.o"
  "CMakeFiles/test_channels.dir/unit/test_channels.c.o.d"
  "test_channels"
  "test_channels.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_channels.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
