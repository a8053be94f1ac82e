
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/h11b/tests/fuzz/fuzz_checkpoint.c" "tests/fuzz/CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.c.o" "gcc" "tests/fuzz/CMakeFiles/fuzz_checkpoint.dir/fuzz_checkpoint.c.o.d"
  "/work/wt/h11b/tests/fuzz/replay.c" "tests/fuzz/CMakeFiles/fuzz_checkpoint.dir/replay.c.o" "gcc" "tests/fuzz/CMakeFiles/fuzz_checkpoint.dir/replay.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/wt/h11b/build2/CMakeFiles/brainsim.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
