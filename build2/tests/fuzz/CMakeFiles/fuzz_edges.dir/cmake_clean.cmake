file(REMOVE_RECURSE
  "CMakeFiles/fuzz_edges.dir/fuzz_edges.c.o"
  "CMakeFiles/fuzz_edges.dir/fuzz_edges.c.o.d"
  "CMakeFiles/fuzz_edges.dir/replay.c.o"
  "CMakeFiles/fuzz_edges.dir/replay.c.o.d"
  "fuzz_edges"
  "fuzz_edges.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_edges.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
