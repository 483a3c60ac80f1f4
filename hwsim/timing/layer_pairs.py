"""hwsim.timing.layer_plan's comparison of every layer with the one before, all pairs at once,
for the common program whose layers have the same rows per queue: each queue's rows of the
layers as a (layers, rows per layer) array, a column compared between neighbouring layers in
one step. The loop over pairs (layer_plan._adjacent_equal) makes ~150 small numpy calls per
pair (~5.8 ms for LLaMA2-7B's 31 pairs, on every timed target, where reuse then does not
apply); this makes about as many for all of them. Same results, entry for entry: the first
failing column of each pair in the loop's order, its reasons, the DRAM row-period moves and
the rotating rows.
"""
from __future__ import annotations

import numpy as np

_BIG = np.iinfo(np.int64).max


def adjacent_equal_uniform(rows, starts, length, exact, memory, chunk: int, period: int,
                           row_period: int):
    """layer_plan._adjacent_equal's (ok, step, rotating, reason, moves, shift), for `length`
    equal in every layer (column 0 holds it). `exact` / `memory`: the columns compared on
    every row / on LD and ST rows, in the order their names are reported."""
    n = starts.shape[1] - 1
    queues = [q for q in range(length.shape[0]) if length[q, 0]]

    def blocks(column):  # per queue: (layers, rows per layer)
        return [rows[column][starts[q, 0]:starts[q, 0] + n * length[q, 0]]
                .reshape(n, length[q, 0]) for q in queues]
    mems = [m[1:] for m in blocks("is_mem")]  # layer k's LD / ST rows, k >= 1

    def differs(column, masked: bool) -> np.ndarray:  # per pair k - 1: layer k != layer k - 1
        out = np.zeros(n - 1, bool)
        for x, m in zip(blocks(column), mems):
            d = x[1:] != x[:-1]
            out |= (d & m if masked else d).any(axis=1)
        return out

    first_bad = [None] * (n - 1)  # the first failing column of each pair
    for column, masked in [(c, False) for c in exact] + [(c, True) for c in memory]:
        for k in np.flatnonzero(differs(column, masked)):
            first_bad[k] = first_bad[k] or column
    moved_lo = np.full(n - 1, _BIG)        # the LD / ST address moves of each pair: least,
    moved_hi = np.full(n - 1, -_BIG - 1)   # greatest, count, any off the chunk grid
    moved_n = np.zeros(n - 1, np.int64)
    off_grid = np.zeros(n - 1, bool)
    rotating = np.zeros(len(rows["service"]), bool)
    for q, x, m in zip(queues, blocks("addr"), mems):
        o = x[1:] - x[:-1]
        moved_lo = np.minimum(moved_lo, np.where(m, o, _BIG).min(axis=1))
        moved_hi = np.maximum(moved_hi, np.where(m, o, -_BIG - 1).max(axis=1))
        moved_n += m.sum(axis=1)
        off_grid |= (m & (o % chunk != 0)).any(axis=1)
        start = starts[q, 1]
        rotating[start:start + (n - 1) * length[q, 0]] = (m & (o % period != 0)).ravel()
    moves, shift = np.zeros(n, bool), np.zeros(n, np.int64)
    if row_period:
        one = (moved_n == 0) | ((moved_lo == moved_hi) & (moved_lo % row_period == 0))
        moves[1:] = one
        shift[1:] = np.where(one & (moved_n > 0), moved_lo // row_period, 0)
    kinds = np.zeros(n - 1, bool)  # kernel numbers: present in one layer only, or two steps
    k_lo, k_hi = np.full(n - 1, _BIG), np.full(n - 1, -_BIG - 1)
    for x in blocks("kernel") if len(rows["kernel"]) else ():  # empty: no GPU kernels
        now, before = x[1:], x[:-1]
        kinds |= ((now < 0) != (before < 0)).any(axis=1)
        d = now - before
        k_lo = np.minimum(k_lo, np.where(before >= 0, d, _BIG).min(axis=1))
        k_hi = np.maximum(k_hi, np.where(before >= 0, d, -_BIG - 1).max(axis=1))
    have_step = k_lo <= k_hi
    ok = np.ones(n, bool)
    ok[0] = False
    step = np.zeros(n, np.int64)
    reason = None
    for k in range(1, n):
        bad = first_bad[k - 1]
        if bad is None and off_grid[k - 1]:
            bad = "addr (offset not a multiple of channel_interleave_bytes)"
        if bad is None and (kinds[k - 1] or (have_step[k - 1] and k_lo[k - 1] != k_hi[k - 1])):
            bad = "kernel"
        if bad is not None:
            ok[k], reason = False, reason or f"layer {k} differs from layer {k - 1} in {bad}"
            continue
        step[k] = k_lo[k - 1] if have_step[k - 1] else 0
    return ok, step, rotating, reason, moves, shift
