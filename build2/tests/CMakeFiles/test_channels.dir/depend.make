# Empty dependencies file for test_channels.
# This may be replaced when dependencies are built.
