"""hwsim: a cycle-approximate simulator for LLM accelerators, and the `hwsim` command line.

The public API (hwsim.api) is available from here: hwsim.simulate, hwsim.roofline,
hwsim.compile, hwsim.inspect, hwsim.load_target, hwsim.load_model, hwsim.Result, hwsim.frame.
It is imported on first use, so `import hwsim` stays fast.
"""
import sys as _sys
import types as _types

from hwsim.errors import HwsimError
from hwsim.jit_cache import configure as _configure_jit_cache

__version__ = "0.1.0"
_API = ("simulate", "roofline", "compile", "inspect", "fit", "Fit", "kernel", "check", "load_target",
        "load_model", "workload", "models", "Result", "Roofline", "frame")

_configure_jit_cache()


class _Package(_types.ModuleType):
    """`hwsim.simulate` and `hwsim.roofline` are API functions, and also the names of simulator
    modules (hwsim/simulate.py, hwsim/roofline.py). Importing such a module would bind it over
    the function; here the API name wins. The modules stay importable as before
    (`from hwsim.simulate import simulate_program`): the import system finds them in
    sys.modules."""

    def __setattr__(self, name, value):
        if name in _API and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _API:
        from hwsim import api
        return getattr(api, name)
    raise AttributeError(f"module 'hwsim' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
