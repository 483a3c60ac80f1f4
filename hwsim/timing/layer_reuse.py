"""Identical decoder layers timed once (DESIGN.md: reuse only on equal instructions and start state).

The engine (hwsim.timing.engine) is a deterministic machine: its state is the queue positions
and the times it takes maxima with (queue, unit and side ends, unread token arrivals, the
kernel barrier, the DRAM channels' bus ends). It issues rows in non-decreasing start time, so
once the next row to issue starts at T, every later start is >= T, and raising any of those
times (and any row's host-issue bound) to T changes no later start ("clamped" below). Cut the
run at checkpoints c_j: the first row of layer j on one queue (the anchor) is next to issue,
at T_j. If

1. the layers' rows are equal on every column the engine reads (hwsim.timing.layer_plan), and
2. the queue positions at c_j are those at c_{j-1} plus one layer's rows per queue, the clamped
   state at c_j is the one at c_{j-1} moved by D = T_j - T_{j-1} (token FIFOs by their unread
   arrivals, GPU kernels renumbered by K per layer, with equal row counts), and the clamped
   host-issue bounds of the rows the next layers look at agree the same way (`_match`),

then from c_j the engine does what it did from c_{j-1}, every time D later: the rows of the
next m layers start and end D, 2D, ... later than layer j-1's rows, the state at c_{j+m} is the
one at c_j moved by m D, and the DRAM counts grow by m times layer j-1's (`_jump`). m stops
before the run's last layer (the engine looks at each queue's next row, which must be a
layer's row too). Times are compared within REL_TOL of the checkpoint time: layer j's times
are sums in another order than layer j-1's moved by D, equal to rounding, not bit for bit.

A memory with a DRAM timing table adds its banks' state and refresh to the conditions
(hwsim.timing.layer_reuse_dram). A channel's last column command enters as its time + tCCD_S
against a column >= T, so it is clamped at T - tCCD_S (tCCD_S is 0 without a timing table).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.memory.kernel import P_TCCD_S_S, P_TIMED
from hwsim.timing import layer_reuse_bounds as bounds
from hwsim.timing import layer_reuse_dram as dram_reuse
from hwsim.timing import row_periods
from hwsim.timing.layer_plan import N_QUEUES, Plan, layer_ids, plan
from isa import Queue

_RUN_ENDS = "the identical run ends here"
REL_TOL = 1e-12  # of the checkpoint time: float rounding (about 10^4 ulps), far below a cycle


def report(reason: str | None, layers: int = 0, reused=(), periods=None) -> dict:
    """The JSON `reuse` field: layers in the program, layers copied and where ([first, last,
    copied from]), or why none were (None when some were); and the rows copied within layers
    (`rows_reused`; `row_periods`: [layer (-1: outside the layers), periods, rows copied] per
    layer, `row_periods_reason`: why none were, None when some were). `periods`: the
    `_Periods` driver or its report (None: none copied, for `reason`)."""
    out = {"layers": int(layers), "layers_reused": int(sum(r[1] - r[0] + 1 for r in reused)),
           "reused": [list(r) for r in reused], "reason": None if reused else reason}
    if periods is None:
        periods = _periods_report({}, reason)
    out.update(periods if isinstance(periods, dict) else periods.report())
    return out


@dataclass
class Snapshot:
    t: float
    ptr: np.ndarray
    times: np.ndarray     # clamped: queue, unit, side ends, kernel barrier, channel bus ends
    live: np.ndarray      # (source, destination) pairs with tokens in flight
    unread: list          # their clamped unread token arrivals
    written: np.ndarray
    read: np.ndarray
    kernel_open: int      # lowest kernel with rows left
    touched: np.ndarray   # kernels >= kernel_open with some rows issued
    pending: np.ndarray   # their rows left
    kernel_end: np.ndarray  # clamped
    stats: np.ndarray
    banks: tuple = None   # timed DRAM: layer_reuse_dram.bank_snapshot


def run_reusing(step, rows: dict, state, layers, band=None) -> dict:
    """Run the engine (`step(state, stops)`) to the end, copying layers, and repeated rows
    within them (hwsim.timing.row_periods), where the conditions hold. `layers`: each row's
    layer, or a string: why reuse is off. `band`: the rows stand for a program with more
    layers (hwsim.timing.window_reuse.Band): its checkpoints, jump and report."""
    if isinstance(layers, str):
        step(state, _NO_STOPS)
        return report(layers)
    found = plan(rows, layers, state.dram.params) if band is None else \
        plan(band.plan_rows(rows), layers, state.dram.params,
             (band.w.first_layer, band.w.band_layers))
    if band is not None and not isinstance(found, Plan):
        band.no_plan(found)
    if not isinstance(found, Plan) and state.dram.params[P_TIMED]:
        # no plan, and row periods refuse a timed DRAM (row_periods.refusal): nothing can stop
        # the run, so one step, with the report _Periods would give
        step(state, _NO_STOPS)
        return report(found, len(layer_ids(layers)), (),
                      _periods_report({}, row_periods.refusal(state.dram.params)))
    initial = state.pending.copy()
    lay = None if not isinstance(found, Plan) else \
        _Layers(found, rows, initial) if band is None else band.driver(found, rows, initial)
    per = _Periods(rows, layers, state, initial)
    while True:
        stops = _NO_STOPS.copy()
        for driver in (lay, per):
            if driver is not None and (row := driver.stop(state)) is not None:
                q = driver.queue
                stops[q] = row if stops[q] < 0 else min(stops[q], row)
        if np.all(stops < 0):
            break
        code, t, q = step(state, stops)
        if code != 2:
            break
        for driver in (lay, per):
            if driver is not None and driver.at(state, q):
                driver.visit(state, t)
    step(state, _NO_STOPS)
    if lay is None:
        out = report(found, len(layer_ids(layers)), (), per)
    else:
        out = report(f"start state differs at every layer boundary "
                     f"({lay.reason or 'none reached'})", found.layers, lay.reused, per)
    return out if band is None else band.mapped(out, lay)


_NO_STOPS = np.full(N_QUEUES, -1, np.int64)


class _Layers:
    """Checkpoints at each layer (group) start on the plan's anchor queue; copies layers."""

    def __init__(self, p: Plan, rows: dict, initial: np.ndarray):
        self.p, self.rows, self.initial, self.queue = p, rows, initial, p.anchor
        self.checkpoints = p.a[p.anchor] + np.arange(p.count) * p.length[p.anchor]
        self.j, self.prev, self.reused, self.reason = 0, None, [], None

    def stop(self, state):
        while self.j < self.p.count and self.checkpoints[self.j] < state.ptr[self.queue]:
            self.j, self.prev = self.j + 1, None  # passed (never within a layer: row_periods)
        return int(self.checkpoints[self.j]) if self.j < self.p.count else None

    def at(self, state, q: int) -> bool:
        return (q == self.queue and self.j < self.p.count
                and state.ptr[q] == self.checkpoints[self.j])

    def visit(self, state, t: float) -> None:
        p, j, prev = self.p, self.j, self.prev
        cur = _snapshot(state, t, self.rows, self.initial)
        m, why = _match(prev, cur, p, self.rows, self.initial, state) if prev else (0, None)
        extra, after = self.inserted(state, prev, cur, m)
        if m:
            _jump(state, prev, cur, m, p, self.rows, self.initial, extra, after)
            g = p.group
            self.reused.append((p.first + j * g, p.first + (j + m) * g - 1,
                                p.first + (j - 1) * g))
            self.j, self.prev = j + m, None
            return
        if why and (why != _RUN_ENDS or self.reason is None):
            self.reason = why
        self.j, self.prev = j + 1, cur

    def inserted(self, state, prev, cur, m: int) -> tuple:
        """(layers not in the rows inserted by this copy, per queue the row they stand
        before): none here; hwsim.timing.window_reuse's band."""
        return 0, None


class _Periods:
    """Checkpoints every period of each repeated stretch of rows (hwsim.timing.row_periods) on
    the anchor queue, found lazily as the engine gets there; copies periods."""

    def __init__(self, rows: dict, layers: np.ndarray, state, initial: np.ndarray):
        self.finder = row_periods.Finder(rows, layers, state.dram.params)
        self.rows, self.layers, self.initial = rows, layers, initial
        self.queue = self.finder.anchor
        self.no_rotation = np.zeros(len(rows["service"]), bool)
        self.stretch, self.row, self.scan_at, self.history = None, 0, self.finder.lo, []
        self.copied, self.reason = {}, self.finder.reason

    def stop(self, state):
        ptr = int(state.ptr[self.queue])
        if self.stretch is not None and self.row < ptr:  # jumped over by a layer copy
            self.stretch, self.scan_at = None, ptr
        if self.stretch is None and self.scan_at <= ptr:
            self.stretch, scan_at = self.finder.next(max(ptr, self.scan_at))
            self.scan_at = self.scan_at if scan_at is None else scan_at
            if self.stretch is not None:
                self.row, self.history, self.tries = self.stretch.first, [], 0
        row = self.row if self.stretch is not None else self.scan_at
        return row if row < self.finder.hi else None

    def at(self, state, q: int) -> bool:
        return q == self.queue and self.stretch is not None and state.ptr[q] == self.row

    def visit(self, state, t: float) -> None:
        s = self.stretch
        cur = _snapshot(state, t, self.rows, self.initial)
        first_why = None
        for prev in reversed(self.history):  # 1, 2, ... checkpoints back: a pipeline may
            p = row_periods.period_shape(prev, cur, s, self.no_rotation)  # repeat every 2nd
            m, why = 0, _state_differs(prev, cur, p, self.rows)
            if not why:
                p = row_periods.with_ends(p, s, self.rows, self.layers, self.finder.round)
                m, why = (0, p) if isinstance(p, str) else _match(
                    prev, cur, p, self.rows, self.initial, state, state_checked=True)
            if m:
                _jump(state, prev, cur, m, p, self.rows, self.initial)
                n = self.copied.setdefault(int(self.layers[cur.ptr[s.queue]]), [0, 0])
                n[0] += m * int(p.length[s.queue]) // s.length
                n[1] += m * int(np.sum(p.length))
                self.stretch, self.scan_at = None, int(state.ptr[s.queue])
                return
            first_why = first_why or why
        if first_why and (first_why != _RUN_ENDS or self.reason is None):
            self.reason = first_why
        self.history = (self.history + [cur])[-row_periods.HISTORY:]
        self.row += s.length
        self.tries += 1
        if self.row + s.length > s.end - 1:  # no period left to copy after the next one
            self.stretch, self.scan_at = None, self.row
        elif self.tries >= row_periods.MAX_TRIES:  # a state that does not settle: the engine
            self.stretch, self.scan_at = None, s.end  # times the rest (bounds the checkpoints)

    def report(self) -> dict:
        return _periods_report(self.copied, self.reason)


def _periods_report(copied: dict, reason: str | None) -> dict:
    """The row-period part of the `reuse` report: {layer: [periods, rows copied]} copied."""
    periods = [[k, v[0], v[1]] for k, v in sorted(copied.items())]
    return {"rows_reused": int(sum(v[2] for v in periods)), "row_periods": periods,
            "row_periods_reason": None if periods else (reason or "no stretch of rows repeats")}


def _snapshot(state, t: float, rows: dict, initial: np.ndarray) -> Snapshot:
    off = rows["fifo_offset"]
    open_k = int(state.barrier[0])
    touched = open_k + np.flatnonzero(state.pending[open_k:] != initial[open_k:])
    times = np.maximum(np.concatenate([state.free, state.queue_done, state.unit_free,
                                       state.side_free, state.barrier[1:]]), t)
    chan = np.maximum(state.dram.chan_state, _channel_floor(state, t)).ravel()
    live = np.flatnonzero(state.written > state.read)
    return Snapshot(t, state.ptr.copy(), np.concatenate([times, chan]), live,
                    [np.maximum(state.fifo[off[c] + state.read[c]:off[c] + state.written[c]], t)
                     for c in live],
                    state.written.copy(), state.read.copy(), open_k, touched,
                    state.pending[touched].copy(), np.maximum(state.kernel_end[touched], t),
                    state.dram.stats_array.copy(),
                    dram_reuse.bank_snapshot(state, t) if dram_reuse.timed(state) else None)


def _channel_floor(state, t: float) -> np.ndarray:
    """Clamps of a channel's (data bus end, last column command): t, t - tCCD_S."""
    return np.array([t, t - state.dram.params[P_TCCD_S_S]])


def _match(prev: Snapshot, cur: Snapshot, p: Plan, rows: dict, initial: np.ndarray, state,
           state_checked: bool = False):
    """(m, None): the next m layers repeat the last one; (0, why) when they may not.
    `state_checked`: `_state_differs` has found the states equal already."""
    if not state_checked and (why := _state_differs(prev, cur, p, rows)):
        return 0, why
    shift, tol = cur.t - prev.t, REL_TOL * cur.t
    qs = rows["queue_start"]
    idle = [q for q in range(N_QUEUES) if not p.length[q] and prev.ptr[q] < qs[q + 1]]
    if len(rows["kernel"]) and any(rows["kernel"][prev.ptr[q]] >= 0 for q in idle):
        return 0, "a GPU kernel outside the layers is waiting"
    m = bounds.layers_left(prev, p, rows)
    grown = cur.written - prev.written
    room = np.diff(np.append(rows["fifo_offset"], rows["fifo_size"])) - cur.written
    if np.any(grown > 0):
        m = min(m, int(np.min(room[grown > 0] // grown[grown > 0])))
    if m and not (m := bounds.host_issue_agrees(prev, shift, tol, m, p, rows)):
        return 0, "host kernel issue times differ"
    if m and not (m := bounds.kernel_sizes_agree(prev, m, p, rows, initial)):
        return 0, "GPU kernel sizes differ"
    if m and not _moved_transfers_alone(prev, cur, m, p, rows, state):
        return 0, "a transfer that lands on other channels in the next layers overlaps another"
    if m and cur.banks is not None and (why := dram_reuse.refresh_allows(
            prev, cur, m, state.dram.params, tol, dram_reuse.latest_bus_free(state))):
        return 0, why
    return m, None if m else _RUN_ENDS


def _state_differs(prev: Snapshot, cur: Snapshot, p: Plan, rows: dict) -> str | None:
    """Why the clamped state at c_j is not the one at c_{j-1} moved by D (None: it is)."""
    if np.any(cur.ptr - prev.ptr != p.length):
        q = int(np.flatnonzero(cur.ptr - prev.ptr != p.length)[0])
        return f"queue {Queue(q).name} is at another row of its layer"
    if np.any(prev.ptr < p.a):
        return "the previous layer began before the identical run"
    shift, tol = cur.t - prev.t, REL_TOL * cur.t
    bad = np.flatnonzero(np.abs(cur.times - shift - prev.times) > tol)
    if len(bad):
        return _time_labels_from(len(cur.times), bad[0], rows)
    if len(prev.live) != len(cur.live) or np.any(prev.live != cur.live):
        c = np.setxor1d(prev.live, cur.live)[0] if len(np.setxor1d(prev.live, cur.live)) \
            else prev.live[np.argmax(prev.live != cur.live)]
        return f"tokens {Queue(c // N_QUEUES).name}->{Queue(c % N_QUEUES).name} in flight"
    for c, a, b in zip(cur.live, prev.unread, cur.unread):
        if len(a) != len(b) or np.any(np.abs(b - shift - a) > tol):
            return f"tokens {Queue(c // N_QUEUES).name}->{Queue(c % N_QUEUES).name} in flight"
    if cur.banks is not None and (why := dram_reuse.banks_differ(prev, cur, p.row_shift, tol)):
        return why
    if (cur.kernel_open - prev.kernel_open != p.kernels or len(cur.touched) != len(prev.touched)
            or np.any(cur.touched - prev.touched != p.kernels)
            or np.any(cur.pending != prev.pending)
            or np.any(np.abs(cur.kernel_end - shift - prev.kernel_end) > tol)):
        return "GPU kernels in flight"
    return None


def _moved_transfers_alone(prev, cur, m, p: Plan, rows: dict, state) -> bool:
    """Whether every LD / ST of the last layer whose copies land on other channels (whole
    interleave chunks, not whole rounds, apart: hwsim.timing.layer_plan) ran while no other
    transfer did. Then all channels were idle at its start (in-flight ones are in the state
    compared at c_j, idle ones are clamped), it lasted start + max bursts per channel, as its
    copy on the rotated channels does, and it left no busy channel for a later transfer."""
    qs, length, queue = rows["queue_start"], p.length, rows["queue"]
    mem_q = [int(Queue.LD), int(Queue.ST)]
    x = np.concatenate([np.arange(prev.ptr[q], cur.ptr[q]) for q in mem_q])
    x = x[rows["is_mem"][x]]
    if not len(x):
        return True
    i = np.arange(1, m + 1)[:, None]
    moved = x[p.rotating[x[None, :] + i * length[queue[x]][None, :]].any(axis=0)]
    if not len(moved):
        return True
    issued = np.concatenate([np.arange(qs[q], cur.ptr[q]) for q in mem_q])
    issued = issued[rows["is_mem"][issued] & (state.end[issued] > prev.t)]
    s, e = state.start[issued], state.end[issued]
    for r in moved:
        if np.count_nonzero((s < state.end[r]) & (e > state.start[r]) & (issued != r)):
            return False
    return True


def _time_labels_from(n: int, index: int, rows: dict) -> str:
    q = [x.name for x in Queue]
    fixed = [f"queue free[{x}]" for x in q] + [f"queue done[{x}]" for x in q]
    if index < len(fixed):
        return fixed[index]
    return f"unit, side, kernel or channel time #{index - len(fixed)}"


def _jump(state, prev: Snapshot, cur: Snapshot, m: int, p: Plan, rows: dict, initial,
          extra: int = 0, after=None) -> None:
    """Copy the times of the layer from c_{j-1} to c_j onto the next m layers (i x shift
    later) and move the state at c_j to c_{j+m}. `extra`: that many more layers stand
    before row after[q] of each queue q, not in the rows (hwsim.timing.window_reuse): the
    rows from there on and the state are that many layers later in time, and the DRAM counts
    grow by m + extra layers' (rows, ptr, tokens and kernel numbers move by m)."""
    shift = cur.t - prev.t
    i = np.arange(1, m + 1)[:, None]
    for q in np.flatnonzero(p.length):
        a, n = int(prev.ptr[q]), int(p.length[q])  # reference rows a..a+n-1, copies after them
        k = i if not extra else i + extra * (a + i * n + np.arange(n)[None, :] >= after[q])
        for times in (state.start, state.end):
            times[a + n:a + (m + 1) * n].reshape(m, n)[:] = times[a:a + n][None, :] + k * shift
    moved = (m + extra) * shift
    for arr in (state.free, state.queue_done, state.unit_free, state.side_free):
        arr[:] = np.maximum(arr, cur.t) + moved
    state.barrier[1] = max(state.barrier[1], cur.t) + moved
    chan = state.dram.chan_state
    chan[:] = np.maximum(chan, _channel_floor(state, cur.t)) + moved
    if cur.banks is not None:
        dram_reuse.jump_banks(state, prev, cur, m + extra)
    off = rows["fifo_offset"]
    written = cur.written + m * (cur.written - prev.written)
    read = cur.read + m * (cur.read - prev.read)
    for c, unread in zip(cur.live, cur.unread):
        state.fifo[off[c] + read[c]:off[c] + written[c]] = unread + moved
    state.written[:], state.read[:] = written, read
    state.ptr[:] = cur.ptr + m * p.length
    open_k = cur.kernel_open + m * p.kernels
    state.barrier[0] = open_k
    state.pending[open_k:] = initial[open_k:]
    state.kernel_end[open_k:] = 0.0
    state.pending[cur.touched + m * p.kernels] = cur.pending
    state.kernel_end[cur.touched + m * p.kernels] = cur.kernel_end + moved
    stats = state.dram.stats_array
    stats[:] = cur.stats + (m + extra) * (cur.stats - prev.stats)
