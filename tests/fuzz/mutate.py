"""Hypothesis strategies that break valid inputs the way a new user's files break: bytes flipped,
cut, repeated; numbers set to zero, negative, huge, infinite or NaN; keys dropped, doubled or
nested absurdly deep; text with newlines and control characters where a name should be."""
from __future__ import annotations

import json
import math

from hypothesis import strategies as st

NASTY_INTS = [0, 1, -1, 2, 3, 7, 16, 255, 256, 4095, 65535, 65536, 2**31 - 1, 2**31, 2**32,
              2**53, 2**63 - 1, 2**64, 10**30, -(2**63)]
NASTY_FLOATS = [0.0, -0.0, 1e-300, 1e-30, 0.5, 1.5, 1e30, 1e300, -1.0, math.inf, -math.inf,
                math.nan]
NASTY_TEXT = ["", " ", "\n", "a\nb", ";", "x" * 300, "\u2028", "\x00", "é", '"', "null", "inf",
              "-1", "1e999", "0x10", "[", "{", "*a", "&a"]


def nasty_scalars():
    return st.one_of(st.sampled_from(NASTY_INTS), st.integers(-10**6, 10**12),
                     st.sampled_from(NASTY_FLOATS), st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from(NASTY_TEXT), st.text(max_size=12), st.booleans(),
                     st.none())


def nasty_values():
    """Scalars, and containers of them (some of them deep)."""
    return st.one_of(
        nasty_scalars(),
        st.recursive(nasty_scalars(), lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
            max_leaves=8),
        st.integers(1, 900).map(deep_list),
    )


def deep_list(depth: int):
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def byte_mutants(draw, seeds: list[bytes], hot: list[int] | None = None, max_ops: int = 4):
    """A seed with 1..max_ops byte-level edits; positions favour `hot` offsets (headers)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_ops))):
        size = len(data)
        if hot and draw(st.booleans()):
            pos = min(draw(st.sampled_from(hot)) + draw(st.integers(0, 8)), max(size - 1, 0))
        else:
            pos = draw(st.integers(0, max(size - 1, 0)))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut", "dup", "zero"]))
        if op == "flip" and size:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and size:
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, 10, 34, 59, 91, 123]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "cut":
            del data[pos:]
        elif op == "dup":
            end = pos + draw(st.integers(1, 256))
            data[pos:pos] = data[pos:end]
        elif op == "zero":
            data[pos:pos + draw(st.integers(1, 32))] = bytes(len(data[pos:pos + 32]))[:32]
    return bytes(data)


@st.composite
def tree_mutants(draw, seeds: list[dict], max_ops: int = 3):
    """A seed mapping with 1..max_ops edits at random paths: set a nasty value, delete, add an
    unknown key, or scale a number."""
    tree = json.loads(json.dumps(draw(st.sampled_from(seeds)), default=str))
    for _ in range(draw(st.integers(1, max_ops))):
        parent, key = _pick(draw, tree)
        if parent is None:
            continue
        op = draw(st.sampled_from(["set", "set", "scale", "delete", "add"]))
        if op == "set":
            parent[key] = draw(nasty_values())
        elif op == "scale" and isinstance(parent.get(key) if isinstance(parent, dict)
                                          else parent[key], (int, float)):
            parent[key] = scaled(draw, parent[key])
        elif op == "delete" and isinstance(parent, dict):
            parent.pop(key, None)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "count", "freq_hz", key + "_x"]))] = \
                draw(nasty_scalars())
    return tree


def scaled(draw, value):
    factor = draw(st.sampled_from([0, -1, 1e-6, 0.001, 0.5, 2, 10, 1000, 1e6, 1e30, math.inf]))
    out = value * factor
    if isinstance(value, int) and not isinstance(value, bool) and math.isfinite(out):
        return int(out)
    return out


@st.composite
def numeric_perturbations(draw, seeds: list[dict], max_ops: int = 3, bounds=None):
    """A seed mapping with 1..max_ops of its numbers scaled by a plausible factor, or (with
    `bounds(name) -> (least, greatest) | None`) set to an end of its allowed range: the
    'accepted inputs' campaigns, most of which still load."""
    tree = json.loads(json.dumps(draw(st.sampled_from(seeds)), default=str))
    numbers = [(p, k) for p, k in _leaves(tree)
               if isinstance(p[k], (int, float)) and not isinstance(p[k], bool)]
    for _ in range(draw(st.integers(1, max_ops))):
        parent, key = draw(st.sampled_from(numbers))
        span = bounds(key) if bounds is not None and isinstance(key, str) else None
        if span is not None and draw(st.integers(0, 2)) == 0:
            value = draw(st.sampled_from(span))
        else:
            value = parent[key] * draw(st.sampled_from([0.01, 0.1, 0.5, 0.9, 1.1, 2, 4, 10,
                                                        100, 1000]))
        parent[key] = max(1, int(value)) if isinstance(parent[key], int) else value
    return tree


def _leaves(node):
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, (dict, list)):
            yield from _leaves(value)
        else:
            yield node, key


def _pick(draw, tree):
    """A (container, key) somewhere in the tree, walking down a random number of levels."""
    node, parent, key = tree, None, None
    for _ in range(draw(st.integers(1, 6))):
        if isinstance(node, dict) and node:
            keys = sorted(node, key=str)
        elif isinstance(node, list) and node:
            keys = list(range(len(node)))
        else:
            break
        parent, key = node, draw(st.sampled_from(keys))
        node = node[key]
    return parent, key
