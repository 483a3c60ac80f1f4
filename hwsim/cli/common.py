"""Helpers the command modules share: the --set flag, JSON output, tables, SI prefixes."""
from __future__ import annotations

import sys

from hwsim import api
from hwsim.api.result import dumps_json


def add_target_overrides(parser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="dotted.key=value",
                        help="override a target field (repeatable), e.g. clocks.core.freq_hz=3e8")


def load_target(name: str, overrides):
    return api.load_target(name, overrides)


__all__ = ["add_target_overrides", "load_target", "dumps_json", "emit", "format_table", "si"]


def emit(text: str) -> None:
    sys.stdout.write(text)


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def si(value: float, unit: str) -> str:
    """1.555e12, 'B/s' -> '1.56 TB/s'."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"
