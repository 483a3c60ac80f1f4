"""The whole program's figures from its window (hwsim.program_arrays_window) and the band left out.

The band is `left_out` more copies of the unit copy just before it (`ref`): the same columns,
so the same per-row costs, and (hwsim.timing.window_reuse) their times are that copy's moved by
one unit period per copy; the window's rows after the band are already at the whole program's
times. So:

- sums over rows in program order (energy's compute term, roofline per-resource sums: np.cumsum
  and np.bincount add one row after another) are summed in that order with the band's rows
  put back in, piece by piece (`ordered_sum`): the same floats as over every row;
- integer counts (bytes) come from the base rows times the whole program's repeats (`repeats`);
- a union of busy intervals (utilisation) is f(k): the union with the band's first k layers
  (plan units, at the times the copy gives them, `band_rows`) and the rows after the band
  E - k layers back from their place (E: the band's layers), at k = 0, 1, 2: with a periodic
  steady state f grows by one constant per layer (checked: E x the steps' difference within
  UNION_REL of the total, so what the extrapolation could carry is below that; else the
  caller times the whole program), f(E) = f(0) + E x step, equal to the whole program's union
  to float rounding (not bit for bit: another order of the same sum; with E <= 2, f(E)
  itself).
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import base_of
from hwsim.utilization import in_flight_seconds
from isa import Queue

UNION_REL = 1e-11  # of the union: E x (the two steps' difference) may be this much at most
# (the error the extrapolation could carry; measured 1.6e-12 at E = 15 on the 8K a100 prefill)


def repeats(win) -> np.ndarray:
    """Per base row: how many rows of the whole program repeat it."""
    a = win.arrays
    n = len(base_of(a))
    return np.bincount(a.src, minlength=n) + win.left_out * np.bincount(a.src[win.ref],
                                                                        minlength=n)


def pieces(win, mask: np.ndarray):
    """Window rows (where `mask`) in the whole program's order, the band as `left_out` times
    the rows of `ref`: a list of index arrays, the same array object for each band copy."""
    qs, ref = win.arrays.queue_start, win.ref[mask[win.ref]]
    out = []
    for q in range(len(Queue)):
        rows = np.arange(qs[q], qs[q + 1])
        rows = rows[mask[rows]]
        cut = int(np.searchsorted(rows, win.insert[q]))
        mine = ref[(ref >= qs[q]) & (ref < qs[q + 1])]
        out += [rows[:cut]] + [mine] * win.left_out + [rows[cut:]]
    return out


def ordered_sum(parts, values) -> float:
    """Sum of values[part] over the parts in order, one term after another (np.cumsum's
    order); `values` may be per row (1-D) or rows x terms (added row by row)."""
    acc = None
    cache: dict = {}
    for part in parts:
        if not len(part):
            continue
        chunk = cache.get(id(part))
        if chunk is None:
            chunk = cache[id(part)] = values[part].reshape(-1)
        acc = np.cumsum(chunk)[-1] if acc is None else \
            np.cumsum(np.concatenate([[acc], chunk]))[-1]
    return 0.0 if acc is None else float(acc)


def band_rows(band, k: int, start: np.ndarray, end: np.ndarray, mask: np.ndarray):
    """(start, end) of the first k layers (plan units) of rows left out where `mask`, as the
    whole program's copy gives them: row o of the copied layer + b x D (bit for bit)."""
    s, e = [], []
    for q in np.flatnonzero(band.length):
        a, n = int(band.ref[q]), int(band.length[q])
        rel = int(band.after[q]) - a + np.arange(k * n)
        kept = mask[a + rel % n]
        o, b = (rel % n)[kept], (rel // n)[kept]
        s.append(start[a + o] + b * band.shift)
        e.append(end[a + o] + b * band.shift)
    return s, e


def union_s(win, band, start: np.ndarray, end: np.ndarray, mask: np.ndarray):
    """Seconds in the union of the whole program's [start, end) of the rows `mask` (window
    rows), or None where the steady state does not add one constant per layer."""
    a, n = win.arrays, band.plan_units
    after = np.zeros(len(a), bool)
    for q in range(len(Queue)):
        after[band.after[q]:a.queue_start[q + 1]] = True
    before, moved = np.flatnonzero(mask & ~after), np.flatnonzero(mask & after)

    def f(k: int) -> float:
        back = (n - k) * band.shift
        s, e = band_rows(band, k, start, end, mask)
        return in_flight_seconds(np.concatenate([start[before], start[moved] - back] + s),
                                 np.concatenate([end[before], end[moved] - back] + e))
    if n <= 2:
        return f(n)  # every row: the whole program's intervals
    f0, f1, f2 = f(0), f(1), f(2)
    if n * abs((f2 - f1) - (f1 - f0)) > UNION_REL * max(f2, 1e-300):
        return None
    return f0 + n * (f2 - f0) / 2
