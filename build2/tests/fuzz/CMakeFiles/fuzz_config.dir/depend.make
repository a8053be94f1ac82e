# Empty dependencies file for fuzz_config.
# This may be replaced when dependencies are built.
