# Empty compiler generated dependencies file for fuzz_edges.
# This may be replaced when dependencies are built.
