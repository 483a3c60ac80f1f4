"""The `hwsim` command line: the layer where compiler, targets and simulator meet."""
