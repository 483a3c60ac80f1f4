"""Entry point: builds the parser from the command modules and turns every user error into one
line on stderr with exit status 2 (never a traceback)."""
from __future__ import annotations

import argparse
import atexit
import gc
import sys

from hwsim import __version__
from hwsim.api.calls import is_layer_error
from hwsim.cli import (cosim_cmd, demo, fit_cmd, kernel_cmd, model_cmds, papers_cmd,
                       program_cmds, sim_cmds, sweep_cmds, target_cmds, validate_cmd)
from hwsim.errors import HwsimError

# user errors: hwsim's own, a file that cannot be read or written, and the one exception class
# of each layer below (isa, targets, compiler; recognised without importing those layers)
USER_ERRORS = (HwsimError, OSError)
COMMAND_MODULES = (demo, target_cmds, model_cmds, program_cmds, sim_cmds, kernel_cmd, sweep_cmds,
                   cosim_cmd, papers_cmd, validate_cmd, fit_cmd)


def _freeze_at_exit() -> None:
    """A command is the whole process: at exit, Python's shutdown would run full
    garbage-collector passes over every object still alive (numba's typing registries, the
    target, the compiled program) to find cycles that the process's end drops anyway, 0.3-0.5 s
    of CPU, about a third of a small simulate (docs/scale.md: first run). Frozen objects are left
    out of those passes. Registered when a command runs (not on import: a library user's
    objects keep their finalizers), once per process; nothing is written at exit."""
    global _FROZEN_AT_EXIT
    if not _FROZEN_AT_EXIT:
        atexit.register(gc.freeze)
        _FROZEN_AT_EXIT = True


_FROZEN_AT_EXIT = False


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (and exits 2, as argparse does)."""

    def error(self, message: str):
        raise SystemExit(_fail(f"{self.prog}: {message}"))


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hwsim", description="LLM-accelerator compiler and simulator.")
    parser.add_argument("--version", action="version", version=f"hwsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=OneLineParser)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    _freeze_at_exit()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except BrokenPipeError:  # the reader (e.g. `head`) went away: not an error of ours
        sys.stderr.close()
        return 0
    except USER_ERRORS as err:
        return _fail(_one_line(err))
    except ValueError as err:
        if not is_layer_error(err):
            raise
        return _fail(_one_line(err))
    except KeyboardInterrupt:
        return 130


def _one_line(err: Exception) -> str:
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split())


def _fail(message: str) -> int:
    print(f"hwsim: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
