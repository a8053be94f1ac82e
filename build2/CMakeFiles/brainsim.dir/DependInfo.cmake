
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/wt/h11b/src/comm/comm.c" "CMakeFiles/brainsim.dir/src/comm/comm.c.o" "gcc" "CMakeFiles/brainsim.dir/src/comm/comm.c.o.d"
  "/work/wt/h11b/src/config/config.c" "CMakeFiles/brainsim.dir/src/config/config.c.o" "gcc" "CMakeFiles/brainsim.dir/src/config/config.c.o.d"
  "/work/wt/h11b/src/connect/connect.c" "CMakeFiles/brainsim.dir/src/connect/connect.c.o" "gcc" "CMakeFiles/brainsim.dir/src/connect/connect.c.o.d"
  "/work/wt/h11b/src/connect/graphs.c" "CMakeFiles/brainsim.dir/src/connect/graphs.c.o" "gcc" "CMakeFiles/brainsim.dir/src/connect/graphs.c.o.d"
  "/work/wt/h11b/src/engine/build.c" "CMakeFiles/brainsim.dir/src/engine/build.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/build.c.o.d"
  "/work/wt/h11b/src/engine/checkpoint.c" "CMakeFiles/brainsim.dir/src/engine/checkpoint.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/checkpoint.c.o.d"
  "/work/wt/h11b/src/engine/connect.c" "CMakeFiles/brainsim.dir/src/engine/connect.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/connect.c.o.d"
  "/work/wt/h11b/src/engine/estimate.c" "CMakeFiles/brainsim.dir/src/engine/estimate.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/estimate.c.o.d"
  "/work/wt/h11b/src/engine/files.c" "CMakeFiles/brainsim.dir/src/engine/files.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/files.c.o.d"
  "/work/wt/h11b/src/engine/finite.c" "CMakeFiles/brainsim.dir/src/engine/finite.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/finite.c.o.d"
  "/work/wt/h11b/src/engine/gap.c" "CMakeFiles/brainsim.dir/src/engine/gap.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/gap.c.o.d"
  "/work/wt/h11b/src/engine/linear.c" "CMakeFiles/brainsim.dir/src/engine/linear.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/linear.c.o.d"
  "/work/wt/h11b/src/engine/loop.c" "CMakeFiles/brainsim.dir/src/engine/loop.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/loop.c.o.d"
  "/work/wt/h11b/src/engine/output.c" "CMakeFiles/brainsim.dir/src/engine/output.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/output.c.o.d"
  "/work/wt/h11b/src/engine/pop.c" "CMakeFiles/brainsim.dir/src/engine/pop.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/pop.c.o.d"
  "/work/wt/h11b/src/engine/progress.c" "CMakeFiles/brainsim.dir/src/engine/progress.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/progress.c.o.d"
  "/work/wt/h11b/src/engine/proj.c" "CMakeFiles/brainsim.dir/src/engine/proj.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/proj.c.o.d"
  "/work/wt/h11b/src/engine/synmon.c" "CMakeFiles/brainsim.dir/src/engine/synmon.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/synmon.c.o.d"
  "/work/wt/h11b/src/engine/trace.c" "CMakeFiles/brainsim.dir/src/engine/trace.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/trace.c.o.d"
  "/work/wt/h11b/src/engine/trial.c" "CMakeFiles/brainsim.dir/src/engine/trial.c.o" "gcc" "CMakeFiles/brainsim.dir/src/engine/trial.c.o.d"
  "/work/wt/h11b/src/io/edges.c" "CMakeFiles/brainsim.dir/src/io/edges.c.o" "gcc" "CMakeFiles/brainsim.dir/src/io/edges.c.o.d"
  "/work/wt/h11b/src/io/io.c" "CMakeFiles/brainsim.dir/src/io/io.c.o" "gcc" "CMakeFiles/brainsim.dir/src/io/io.c.o.d"
  "/work/wt/h11b/src/model/biological.c" "CMakeFiles/brainsim.dir/src/model/biological.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/biological.c.o.d"
  "/work/wt/h11b/src/model/channels.c" "CMakeFiles/brainsim.dir/src/model/channels.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/channels.c.o.d"
  "/work/wt/h11b/src/model/cng.c" "CMakeFiles/brainsim.dir/src/model/cng.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/cng.c.o.d"
  "/work/wt/h11b/src/model/lif.c" "CMakeFiles/brainsim.dir/src/model/lif.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/lif.c.o.d"
  "/work/wt/h11b/src/model/poisson.c" "CMakeFiles/brainsim.dir/src/model/poisson.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/poisson.c.o.d"
  "/work/wt/h11b/src/model/reduced.c" "CMakeFiles/brainsim.dir/src/model/reduced.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/reduced.c.o.d"
  "/work/wt/h11b/src/model/registry.c" "CMakeFiles/brainsim.dir/src/model/registry.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/registry.c.o.d"
  "/work/wt/h11b/src/model/synapses.c" "CMakeFiles/brainsim.dir/src/model/synapses.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/synapses.c.o.d"
  "/work/wt/h11b/src/model/synapses_trace.c" "CMakeFiles/brainsim.dir/src/model/synapses_trace.c.o" "gcc" "CMakeFiles/brainsim.dir/src/model/synapses_trace.c.o.d"
  "/work/wt/h11b/src/util/rng.c" "CMakeFiles/brainsim.dir/src/util/rng.c.o" "gcc" "CMakeFiles/brainsim.dir/src/util/rng.c.o.d"
  "/work/wt/h11b/src/util/util.c" "CMakeFiles/brainsim.dir/src/util/util.c.o" "gcc" "CMakeFiles/brainsim.dir/src/util/util.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
