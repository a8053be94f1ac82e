# Empty dependencies file for test_connect.
# This may be replaced when dependencies are built.
