# CMake generated Testfile for 
# Source directory: /work/wt/h11b
# Build directory: /work/wt/h11b/build2
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("tests")
