"""Strict JSON for a program's metadata (the .hwx META section and the `.meta` assembly line).

Python's json module accepts what a program must never carry: NaN and Infinity (NaN != NaN, so
a program holding one is not equal to itself after a round trip), numbers that overflow to
infinity (1e400), integers too long to convert (4,301+ digits: ValueError), duplicate keys (the
last one silently wins) and nesting deep enough to exhaust the interpreter's stack
(RecursionError). `loads` refuses each with one IsaError line naming the limit.
"""
from __future__ import annotations

import json
import math

from isa.errors import IsaError

MAX_META_BYTES = 256 * 2**20     # the largest compiled program's metadata is a few MiB
MAX_META_DEPTH = 32              # compiled metadata nests 4 deep
MAX_INT_DIGITS = 40              # a 128-bit integer has 39 decimal digits


def loads(text: str, what: str, *, error: type[Exception] = IsaError,
          max_chars: int = MAX_META_BYTES, max_depth: int = MAX_META_DEPTH,
          syntax: str = "{what} is not valid JSON ({msg})") -> object:
    """Parse `text`; `error` (one line, naming `what`) for anything outside the limits.
    `syntax` formats a syntax error from what, msg, line and column."""
    if len(text) > max_chars:
        raise error(f"{what} is {len(text)} characters; the limit is {max_chars}")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float,
                           parse_int=_int, object_pairs_hook=_object)
    except json.JSONDecodeError as err:
        raise error(syntax.format(what=what, msg=err.msg, line=err.lineno,
                                  column=err.colno)) from None
    except RecursionError:
        raise error(f"{what} nests deeper than {max_depth} levels") from None
    except _Refused as err:
        raise error(f"{what}: {err}") from None
    depth = _depth(value)
    if depth > max_depth:
        raise error(f"{what} nests {depth} levels deep; the limit is {max_depth}")
    return value


class _Refused(Exception):
    """A value the strict hooks refuse (caught in `loads`)."""


def _constant(name: str):
    raise _Refused(f"{name} is not a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:20]} overflows a 64-bit float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"integer of {len(text.lstrip('-'))} digits; the limit is "
                       f"{MAX_INT_DIGITS}")
    return int(text)


def _object(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def _depth(value) -> int:
    """Nesting depth of containers (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node if isinstance(child, (dict, list)))
    return deepest
