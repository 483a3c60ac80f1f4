"""Repeated iterations within an op (an attention kernel's key loop): lower a few iterations
and stand for the others as copies (an isa.compact.Segment), without emitting them.

A loop body run for iterations j = 0, 1, ... emits the same instructions for every j in
[first, regular) up to fields affine in j (addresses), provided it starts from the same codegen
state. Before each of those iterations `state()` gives that state with records taken relative
to the queue ends; when it is equal at three successive boundaries of units of p iterations
(b - 2p, b - p, b), units a = [b - 2p, b - p) and b = [b - p, b) were lowered from equal states
and leave equal states, so every later unit up to `regular` would repeat them: the emitter
skips `copies` units (Emitter.skip) and lowering goes on with unit c and the iterations after
`regular`. Records of the skipped units are never built; the lowered unit b stands for the last
of them (the records that unit c depends on are those it would depend on, at the same places
relative to the queue ends). compiler.codegen.compact checks the emitted rows of units a, b
and c once tokens are set (same opcodes and tokens, fields equal or affine, only address fields
moving) and compiles without segments if they are not.
"""
from __future__ import annotations

PERIODS = (1, 2)  # iterations per unit (a role's two ping-pong slots turn within one or two)
MIN_COPIES = 1    # skip at least one unit, or lower every iteration


def repeat(cx, count: int, first: int, regular: int, body, state) -> None:
    """body(j) for every j in range(count), some of [first, regular) stood for by copies
    when `cx.segments` is on (see the module docstring)."""
    j, snaps, bounds = 0, [], []
    search = cx.segments and regular - first >= 3 + MIN_COPIES
    while j < count:
        if search and first <= j < regular:
            k = j - first
            snaps.append(state())
            bounds.append(cx.em.lens())
            copies = _copies(snaps, k, regular - j)
            if copies is not None:
                p, n = copies
                cx.em.skip([bounds[k - 2 * p], bounds[k - p], bounds[k]], n)
                j, search = j + n * p, False
        body(j)
        j += 1


def _copies(snaps: list, k: int, left: int):
    """(p, units to skip) when boundary k closes two units of p iterations from equal states
    and at least MIN_COPIES units fit before the last one of the regular iterations."""
    for p in PERIODS:
        if k >= 2 * p and snaps[k] == snaps[k - p] == snaps[k - 2 * p]:
            n = left // p - 1
            if n >= MIN_COPIES:
                return p, n
    return None


def slots_state(slots, lens: dict, *records) -> tuple:
    """A Slots object's state (turn, readers, contents) and `records`, each record as
    (queue, position - queue length): comparable across iterations."""
    def rel(r):
        return None if r is None else (r.queue, r.position - lens[r.queue])
    return (slots.turn, tuple(tuple(sorted(rel(r) for r in f)) for f in slots.readers),
            tuple(None if c is None else (c[0], rel(c[1])) for c in slots.contents),
            tuple(rel(r) for r in records))
