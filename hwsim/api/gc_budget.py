"""Fewer garbage-collector passes while the API compiles and simulates.

Compiling a model builds hundreds of thousands of small, long-lived objects (instructions, their
field tuples, graph nodes) and almost no reference cycles. CPython starts a young-generation
pass every 700 net allocations and, now and then, a full pass over every live object, so a
large compile spent about a fifth of its CPU time in the collector (issue #15's profile: 21 %)
finding nothing to free. Inside an API call the young-generation threshold is raised to
GEN0_THRESHOLD allocations: the collector still runs (cycles are still freed, memory stays
bounded), just about 140 times less often. The caller's thresholds come back on return; nested
calls keep the outermost setting.
"""
from __future__ import annotations

import contextlib
import gc

GEN0_THRESHOLD = 100_000  # allocations between young-generation passes (CPython's default: 700)


@contextlib.contextmanager
def fewer_gc_passes():
    before = gc.get_threshold()
    if before[0] < GEN0_THRESHOLD:
        gc.set_threshold(GEN0_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
