# Empty dependencies file for brainsim_cli.
# This may be replaced when dependencies are built.
