"""hwsim: a cycle-approximate simulator for LLM accelerators, and the `hwsim` command line."""

__version__ = "0.1.0"
