# Empty dependencies file for fuzz_checkpoint.
# This may be replaced when dependencies are built.
