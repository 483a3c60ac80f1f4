"""hwsim: a cycle-approximate simulator for LLM accelerators, and the `hwsim` command line."""
from hwsim.jit_cache import configure as _configure_jit_cache

__version__ = "0.1.0"

_configure_jit_cache()
