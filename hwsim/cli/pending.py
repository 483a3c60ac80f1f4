"""Commands of the DESIGN.md contract whose implementation comes with later issues.

They parse their documented arguments now, so scripts can be written against them, and end
with one line saying what is missing (exit 2).
"""
from __future__ import annotations

from hwsim.cli.common import add_target_overrides
from hwsim.errors import HwsimError

WORKLOAD_FLAGS = ("--phase", "--batch", "--seq", "--context", "--gen", "--quant", "--kv-bits",
                  "--sparsity", "--layers")

# command -> (help, the issue that delivers it, takes a workload, extra positional/flags)
PENDING = {
    "papers": ("reproduce the published claims table", "reference systems", False),
}


def register(commands) -> None:
    for name, (text, issue, workload) in PENDING.items():
        parser = commands.add_parser(name, help=f"{text} (not yet: {issue} issue)")
        parser.add_argument("inputs", nargs="*", help="model, program, spec or results file")
        parser.add_argument("-t", "--target")
        parser.add_argument("-o", "--output")
        parser.add_argument("--json", action="store_true")
        if workload:
            for flag in WORKLOAD_FLAGS:
                parser.add_argument(flag)
            add_target_overrides(parser)
        parser.set_defaults(run=_not_yet(name, issue))


def _not_yet(name: str, issue: str):
    def run(args) -> int:
        raise HwsimError(f"'hwsim {name}' is not implemented yet; it arrives with the {issue} "
                         "issue (see README 'Status')")
    return run
