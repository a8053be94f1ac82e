# Empty dependencies file for brainsim.
# This may be replaced when dependencies are built.
