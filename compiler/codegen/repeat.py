"""Repeated iterations within an op (an attention kernel's key loop, a GEMM's M tiles): lower
a few iterations and stand for the others as copies (an isa.compact.Segment), without emitting
them.

A loop body run for iterations j = 0, 1, ... emits the same instructions for every j in
[first, regular) up to fields affine in j (addresses), provided it starts from the same codegen
state. Before each of those iterations `loop_state` takes that state: slots, the frontiers of
the tensors the loop touches and the loop's own records, with the integers of the slots'
window keys (rows, offsets) and the records' places pulled out. Boundaries b - 2p, b - p and
b (units of p iterations) have alike states when the rest is equal, the units emitted as many
rows per queue, each window integer steps evenly, and each record stays where it was (a record
from before the loop, a weight tile loaded by iteration 0) or moves with its queue (one the
loop emitted, at the same place relative to the queue end). Then units a = [b - 2p, b - p) and
b = [b - p, b) were lowered alike (a held window and a new one compare equal in b exactly when
they did in a), so every later unit up to `regular` would repeat them: the emitter skips
`copies` units (Emitter.skip) and lowering goes on with unit c and the iterations after
`regular`. Records of the skipped units are never built; the lowered unit b stands for the last
of them (the records that unit c depends on are those it would depend on, at the same places
relative to the queue ends). compiler.codegen.compact checks the emitted rows of units a, b
and c once tokens are set (same opcodes and tokens, fields equal or affine, only address fields
moving) and compiles without segments if they are not.
"""
from __future__ import annotations

from compiler.codegen.emitter import Frontier
from compiler.codegen.periodic import distinct_slots

PERIODS = (1, 2)  # iterations per unit (a role's two ping-pong slots turn within one or two)
MIN_COPIES = 1    # skip at least one unit, or lower every iteration
GIVE_UP = 8       # boundaries compared before a loop is taken not to repeat (the loops that
                  # do repeat are found at the third or fifth: 1 + 2p)


def repeat(cx, count: int, first: int, regular: int, body, state) -> None:
    """body(j) for every j in range(count), some of [first, regular) stood for by copies
    when `cx.segments` is on (see the module docstring). `state()`: loop_state(cx, ...)."""
    j, snaps, bounds = 0, [], []
    search = cx.segments and regular - first >= 3 + MIN_COPIES
    while j < count:
        if search and first <= j < regular:
            k = j - first
            bounds.append(cx.em.lens())
            snaps.append(state())
            copies = _copies(snaps, bounds, k, regular - j)
            if copies is not None:
                p, n = copies
                cx.em.skip([bounds[k - 2 * p], bounds[k - p], bounds[k]], n)
                j, search = j + n * p, False
            elif k >= GIVE_UP or regular - j < 2 * MIN_COPIES + 1:
                search = False  # no repeat found early, or too few iterations left
        body(j)
        j += 1


def _copies(snaps: list, bounds: list, k: int, left: int):
    """(p, units to skip) when boundary k closes two units of p iterations from alike states
    and at least MIN_COPIES units fit before the last one of the regular iterations."""
    for p in PERIODS:
        if k >= 2 * p and _alike(snaps[k - 2 * p], snaps[k - p], snaps[k],
                                 bounds[k - 2 * p], bounds[k - p], bounds[k]):
            n = left // p - 1
            if n >= MIN_COPIES:
                return p, n
    return None


def _alike(a, b, c, la: dict, lb: dict, lc: dict) -> bool:
    """States a, b, c at boundaries with queue lengths la, lb, lc alike (module docstring)."""
    grow = {q: lb[q] - la[q] for q in la}
    if a[0] != b[0] or b[0] != c[0] or any(lc[q] - lb[q] != g for q, g in grow.items()):
        return False
    if len(a[1]) != len(b[1]) or len(b[1]) != len(c[1]) or \
            any(y - x != z - y for x, y, z in zip(a[1], b[1], c[1])):
        return False
    return all(x == y == z or y - x == z - y == grow[q]
               for (q, x), (_, y), (_, z) in zip(a[2], b[2], c[2]))


def loop_state(cx, names=(), records=()) -> tuple:
    """(structure, window integers, record places) of the codegen state a loop body reads:
    every slot, the writer and reader frontiers of the tensors `names`, and `records`."""
    ints, places = [], []

    def rec(r):
        if r is None:
            return None
        places.append((r.queue, r.position))
        return r.queue

    def frontier(f):  # a Frontier holds one record per queue
        latest = f.latest
        return tuple(rec(latest[q]) for q in sorted(latest)) if latest else ()
    exact = []
    for slot in distinct_slots(cx):
        held = []
        for c in slot.contents:
            if c is not None:
                ints += [v for v in c[0] if type(v) is int]
                c = (tuple(int if type(v) is int else v for v in c[0]), rec(c[1]))
            held.append(c)
        exact.append((slot.turn, tuple(frontier(f) for f in slot.readers), tuple(held)))
    none = Frontier()
    exact += [(frontier(cx.writers.get(n, none)), frontier(cx.readers.get(n, none)))
              for n in names]
    exact.append(tuple(rec(r) for r in records))
    return tuple(exact), tuple(ints), tuple(places)
