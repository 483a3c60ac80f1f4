"""Repeated stretches of rows inside a layer, timed once (hwsim.timing.layer_reuse's exactness
argument applied to row periods instead of layers).

A prefill layer is mostly attention tiles: per query block and key block, LOAD K, MATMUL S,
SOFTMAX, LOAD V, MATMUL PV, where only the DRAM addresses move (one key block per tile). The
argument of layer_reuse needs no layers: between two checkpoints of one queue (the anchor),
rows that repeat on every queue with some period, and the engine's clamped state at the second
checkpoint equal to the one at the first moved by D; then the next m periods repeat the last
one, D apart (`layer_reuse._match` checks the state, `_jump` copies). Here:

- Stretches (`Finder.next`): on the anchor queue (LD, where the transfers are), maximal runs of
  rows equal to the row L before them on every column the engine reads (`equal`, as
  hwsim.timing.layer_plan compares layers), L <= MAX_PERIOD_ROWS, at least MIN_PERIODS periods.
  Every LD / ST address must move by whole rounds over the channels (channels x interleave
  bytes: the same channels and bursts; a K block of 64 chunks on 40 channels comes back after
  5 tiles, so L = 10 LOADs there), and the row's decoder layer must be the same: a stretch never
  crosses a layer boundary, so the layer checkpoints are never jumped over.
- Checkpoints (layer_reuse._Periods): every L anchor rows; each is compared with the last
  HISTORY ones (a pipeline may repeat every other period: then 2 L rows make the period), at
  most MAX_TRIES per stretch without a match.
- Per match (`period_shape`, `with_ends`): the other queues' periods are the rows they
  advanced between the two checkpoints (measured, not guessed), and their rows must repeat with
  that period over the copies and the row after them, compared as the anchor's.

Only on main memories without a DRAM timing table: with one, the transfers of a tile move by a
few chunks, not by whole DRAM row periods, so the banks' open rows would not repeat
(hwsim.timing.layer_reuse_dram); the JSON `reuse.row_periods_reason` says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.memory.kernel import P_CHANNELS, P_INTERLEAVE_BYTES, P_TIMED
from hwsim.timing.layer_plan import _EXACT, _MEMORY, N_QUEUES, Plan
from isa import Queue

MAX_PERIOD_ROWS = 16  # anchor rows per period tried: 1..16
MIN_PERIODS = 4       # fewer: settling takes a period or two, and nothing would be left to copy
SCAN_ROWS = 4096      # anchor rows compared at a time (the engine reaches them lazily)
HISTORY = 2           # checkpoints compared back: a pipeline may repeat every other period
MAX_TRIES = 8         # checkpoints per stretch without a match before its rest is simply timed
TIMED_REASON = ("main memory has a DRAM timing table: a tile's transfers move by a few chunks, "
                "not by whole DRAM row periods, so the banks' rows would not repeat")


@dataclass
class Stretch:
    queue: int   # the anchor queue
    first: int   # its first row that repeats
    end: int     # the row after the last
    length: int  # L: anchor rows per period


def equal(rows: dict, layers: np.ndarray, lo: int, hi: int, period: int, round_bytes: int):
    """Per row r in lo..hi-1: r and r - period are equal on every column the engine reads, in
    the same layer, GPU kernel and host-issue bound, their LD / ST addresses whole rounds over
    the channels apart."""
    x, y = slice(lo, hi), slice(lo - period, hi - period)
    ok = layers[x] == layers[y]
    for c in _EXACT + ("not_before",) + (("kernel",) if len(rows["kernel"]) else ()):
        ok &= rows[c][x] == rows[c][y]
    mem = rows["is_mem"][x]
    for c in _MEMORY:
        ok &= ~mem | (rows[c][x] == rows[c][y])
    return ok & (~mem | ((rows["addr"][x] - rows["addr"][y]) % round_bytes == 0))


def refusal(params: np.ndarray) -> str | None:
    """Why no stretch of rows is copied on this memory whatever the rows (None: none yet)."""
    return TIMED_REASON if params[P_TIMED] else None


class Finder:
    """The next stretch on the anchor queue, from a row on (`next`)."""

    def __init__(self, rows: dict, layers: np.ndarray, params: np.ndarray):
        self.rows, self.layers = rows, layers
        counts = np.diff(rows["queue_start"])
        self.anchor = int(Queue.LD) if counts[int(Queue.LD)] else int(np.argmax(counts))
        self.lo = int(rows["queue_start"][self.anchor])
        self.hi = int(rows["queue_start"][self.anchor + 1])
        self.round = int(params[P_CHANNELS]) * int(params[P_INTERLEAVE_BYTES])
        self.reason = refusal(params)
        self.window = (0, 0, {})  # (first row, row after, {L: runs of rows equal L before})
        self.last = 0  # the period of the last stretch found: tried first in a new window

    def _equal_back(self, lo: int, hi: int, period: int) -> np.ndarray:
        first = min(max(lo, self.lo + period), hi)
        eq = equal(self.rows, self.layers, first, hi, period, self.round)
        return np.concatenate([np.zeros(first - lo, bool), eq])

    def _run_end(self, period: int, row: int) -> int:
        """The first row >= `row` not equal to the one `period` before (or the queue's end)."""
        while row < self.hi:
            hi = min(row + SCAN_ROWS, self.hi)
            bad = np.flatnonzero(~self._equal_back(row, hi, period))
            if len(bad):
                return row + int(bad[0])
            row = hi
        return self.hi

    def next(self, from_row: int):
        """(the first stretch starting at or after from_row within the scanned window, None) or
        (None, the row from which to scan next)."""
        if self.reason:
            return None, self.hi
        lo, hi, runs = self.window
        if not lo <= from_row < hi:
            lo, hi, runs = from_row, min(from_row + SCAN_ROWS, self.hi), {}
            self.window = (lo, hi, runs)
        if self.last:  # the period that repeated last: most often the one that repeats next
            found = self._search(from_row, (self.last,))
            if found:
                return found, None
        found = self._search(from_row, range(1, MAX_PERIOD_ROWS + 1))
        if found:
            self.last = found.length
        return (found, None) if found else (None, hi)

    def _search(self, from_row: int, periods):
        """The stretch of one of `periods` that starts first at or after from_row (the smaller
        period first among equal starts) in the window, or None."""
        lo, hi, runs = self.window
        best = None
        for period in periods:
            if period not in runs:
                d = np.diff(np.concatenate([[0], self._equal_back(lo, hi, period), [0]]).astype(
                    np.int8))
                runs[period] = (np.flatnonzero(d == 1), np.flatnonzero(d == -1))
            starts, ends = runs[period]
            k0 = from_row + period - lo  # rows equal to the one `period` before, from here on
            i0 = np.searchsorted(ends, k0, side="right")
            first = lo + np.maximum(starts[i0:], k0) - period
            end = lo + ends[i0:]
            fits = (end - first >= MIN_PERIODS * period + 1) | (end == hi)
            for k in np.flatnonzero(fits):
                if best is not None and first[k] >= best.first:
                    break
                e = self._run_end(period, hi) if end[k] == hi else int(end[k])
                if e - first[k] >= MIN_PERIODS * period + 1:
                    best = Stretch(self.anchor, int(first[k]), e, period)
                    break
        return best


def period_shape(prev, cur, stretch: Stretch, no_rotation: np.ndarray) -> Plan:
    """The Plan of the period between two checkpoints of a stretch, before its ends are known
    (enough to compare the states): each queue's period is the rows it advanced."""
    return Plan(0, 0, stretch.queue, prev.ptr.copy(), cur.ptr - prev.ptr, 0, 0, no_rotation, 1,
                None, 0)


def with_ends(p: Plan, stretch: Stretch, rows: dict, layers: np.ndarray, round_bytes: int):
    """`p` with each queue's end (its rows repeat with its period up to there, checked as far
    as the copies the anchor's stretch allows), or why no period may be copied."""
    a, length, start = stretch.queue, p.length, p.a
    most = (stretch.end - 1 - int(start[a])) // int(length[a]) - 1
    if most < 1:
        return "the repeated rows end"
    qs, end = rows["queue_start"], np.zeros(N_QUEUES, np.int64)
    for q in np.flatnonzero(length):
        if q == a:  # the anchor's stretch already repeats with its period up to its end
            continue
        d = int(length[q])
        hi = min(int(start[q]) + (most + 1) * d + 1, int(qs[q + 1]))
        lo = min(int(start[q]) + d, hi)
        bad = np.flatnonzero(~equal(rows, layers, lo, hi, d, round_bytes))
        end[q] = lo + bad[0] if len(bad) else hi
    end[a] = stretch.end
    p.end = end
    return p
