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

from hwsim.memory.kernel import P_TCCD_S_S
from hwsim.timing import layer_reuse_dram as dram_reuse
from hwsim.timing.layer_plan import N_QUEUES, Plan, plan
from isa import Queue

_RUN_ENDS = "the identical run ends here"
REL_TOL = 1e-12  # of the checkpoint time: float rounding (about 10^4 ulps), far below a cycle


def report(reason: str | None, layers: int = 0, reused=()) -> dict:
    """The JSON `reuse` field: layers in the program, layers copied and where ([first, last,
    copied from]), or why none were (None when some were)."""
    return {"layers": int(layers), "layers_reused": int(sum(r[1] - r[0] + 1 for r in reused)),
            "reused": [list(r) for r in reused], "reason": None if reused else reason}


@dataclass
class Snapshot:
    t: float
    ptr: np.ndarray
    times: np.ndarray     # clamped: queue, unit, side ends, kernel barrier, channel bus ends
    unread: list          # clamped unread token arrivals per (source, destination) pair
    written: np.ndarray
    read: np.ndarray
    kernel_open: int      # lowest kernel with rows left
    touched: np.ndarray   # kernels >= kernel_open with some rows issued
    pending: np.ndarray   # their rows left
    kernel_end: np.ndarray  # clamped
    stats: np.ndarray
    banks: tuple = None   # timed DRAM: layer_reuse_dram.bank_snapshot


def run_reusing(step, rows: dict, state, layers) -> dict:
    """Run the engine (`step(state, stop_q, stop_row)`) to the end, copying layers where the
    conditions hold. `layers`: each row's layer, or a string: why reuse is off."""
    found = plan(rows, layers, state.dram.params) if not isinstance(layers, str) else layers
    if isinstance(found, str):
        step(state, -1, -1)
        return report(found, 0 if isinstance(layers, str) else len(np.unique(layers[layers >= 0])))
    p: Plan = found
    initial = state.pending.copy()
    checkpoints = p.a[p.anchor] + np.arange(p.count) * p.length[p.anchor]
    reused, reason, prev, j = [], None, None, 0
    while j < p.count:
        code, t = step(state, p.anchor, int(checkpoints[j]))
        if code != 2:
            break
        cur = _snapshot(state, t, rows, initial)
        m, why = _match(prev, cur, p, rows, initial, state) if prev is not None else (0, None)
        if m:
            _jump(state, prev, cur, m, p, rows, initial)
            g = p.group
            reused.append((p.first + j * g, p.first + (j + m) * g - 1, p.first + (j - 1) * g))
            j, prev = j + m, None
            continue
        if why and (why != _RUN_ENDS or reason is None):
            reason = why
        prev, j = cur, j + 1
    step(state, -1, -1)
    return report(f"start state differs at every layer boundary ({reason or 'none reached'})",
                  p.layers, reused)


def _snapshot(state, t: float, rows: dict, initial: np.ndarray) -> Snapshot:
    off = rows["fifo_offset"]
    open_k = int(state.barrier[0])
    touched = open_k + np.flatnonzero(state.pending[open_k:] != initial[open_k:])
    times = np.maximum(np.concatenate([state.free, state.queue_done, state.unit_free,
                                       state.side_free, state.barrier[1:]]), t)
    chan = np.maximum(state.dram.chan_state, _channel_floor(state, t)).ravel()
    return Snapshot(t, state.ptr.copy(), np.concatenate([times, chan]),
                    [np.maximum(state.fifo[off[c] + state.read[c]:off[c] + state.written[c]], t)
                     for c in range(N_QUEUES * N_QUEUES)],
                    state.written.copy(), state.read.copy(), open_k, touched,
                    state.pending[touched].copy(), np.maximum(state.kernel_end[touched], t),
                    state.dram.stats_array.copy(),
                    dram_reuse.bank_snapshot(state, t) if dram_reuse.timed(state) else None)


def _channel_floor(state, t: float) -> np.ndarray:
    """Clamps of a channel's (data bus end, last column command): t, t - tCCD_S."""
    return np.array([t, t - state.dram.params[P_TCCD_S_S]])


def _match(prev: Snapshot, cur: Snapshot, p: Plan, rows: dict, initial: np.ndarray, state):
    """(m, None): the next m layers repeat the last one; (0, why) when they may not."""
    if np.any(cur.ptr - prev.ptr != p.length):
        q = int(np.flatnonzero(cur.ptr - prev.ptr != p.length)[0])
        return 0, f"queue {Queue(q).name} is at another row of its layer"
    if np.any(prev.ptr < p.a):
        return 0, "the previous layer began before the identical run"
    shift, tol = cur.t - prev.t, REL_TOL * cur.t
    bad = np.flatnonzero(np.abs(cur.times - shift - prev.times) > tol)
    if len(bad):
        return 0, _time_labels_from(len(cur.times), bad[0], rows)
    for c, (a, b) in enumerate(zip(prev.unread, cur.unread)):
        if len(a) != len(b) or np.any(np.abs(b - shift - a) > tol):
            return 0, f"tokens {Queue(c // N_QUEUES).name}->{Queue(c % N_QUEUES).name} in flight"
    if cur.banks is not None and (why := dram_reuse.banks_differ(prev, cur, p.row_shift, tol)):
        return 0, why
    if (cur.kernel_open - prev.kernel_open != p.kernels or len(cur.touched) != len(prev.touched)
            or np.any(cur.touched - prev.touched != p.kernels)
            or np.any(cur.pending != prev.pending)
            or np.any(np.abs(cur.kernel_end - shift - prev.kernel_end) > tol)):
        return 0, "GPU kernels in flight"
    qs = rows["queue_start"]
    idle = [q for q in range(N_QUEUES) if not p.length[q] and prev.ptr[q] < qs[q + 1]]
    if any(rows["kernel"][prev.ptr[q]] >= 0 for q in idle):
        return 0, "a GPU kernel outside the layers is waiting"
    m = _layers_left(prev, p, rows)
    grown = cur.written - prev.written
    room = np.diff(np.append(rows["fifo_offset"], rows["fifo_size"])) - cur.written
    if np.any(grown > 0):
        m = min(m, int(np.min(room[grown > 0] // grown[grown > 0])))
    if m and not (m := _host_issue_agrees(prev, shift, tol, m, p, rows)):
        return 0, "host kernel issue times differ"
    if m and not (m := _kernel_sizes_agree(prev, m, p, rows, initial)):
        return 0, "GPU kernel sizes differ"
    if m and not _moved_transfers_alone(prev, cur, m, p, rows, state):
        return 0, "a transfer that lands on other channels in the next layers overlaps another"
    if m and cur.banks is not None and (why := dram_reuse.refresh_allows(
            prev, cur, m, state.dram.params, tol, dram_reuse.latest_bus_free(state))):
        return 0, why
    return m, None if m else _RUN_ENDS


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


def _window(prev: Snapshot, p: Plan, rows: dict) -> np.ndarray:
    """Rows the engine looks at from c_{j-1} to c_j: each queue's layer rows and next row (a
    queue without layer rows: its next row, the same row in every layer)."""
    qs = rows["queue_start"]
    parts = [np.arange(prev.ptr[q], min(prev.ptr[q] + p.length[q] + 1, qs[q + 1]))
             for q in range(N_QUEUES)]
    return np.concatenate(parts)


def _layers_left(prev: Snapshot, p: Plan, rows: dict) -> int:
    """Layers that may be copied: the last copy's rows and each queue's next row after them
    stay in the identical run (or past the queue's end)."""
    qs, m = rows["queue_start"], 1 << 62
    for q in np.flatnonzero(p.length):
        end = p.end[q]  # a whole layer (not group) further rows are still the same rows
        room = end - prev.ptr[q] if end == qs[q + 1] else end - 1 - prev.ptr[q]
        m = min(m, int(room // p.length[q]) - 1)
    return max(m, 0)


def _host_issue_agrees(prev, shift, tol, m, p: Plan, rows: dict) -> int:
    """Largest m' <= m with clamped host-issue bounds of the window rows moved by i x shift."""
    if m == 0 or not np.any(rows["not_before"]):
        return m
    nb, x = rows["not_before"], _window(prev, p, rows)
    i = np.arange(1, m + 1)[:, None]
    mirror = x[None, :] + i * p.length[rows["queue"][x]][None, :]
    present = mirror < rows["queue_start"][rows["queue"][x] + 1][None, :]  # else past its queue
    mirror = np.where(present, mirror, x[None, :])
    lhs = np.maximum(nb[mirror], prev.t + i * shift) - i * shift
    agree = np.abs(lhs - np.maximum(nb[x], prev.t)[None, :]) <= tol * (1 + i)
    ok = np.all(agree | ~present, axis=1)
    return int(np.argmin(ok)) if not ok.all() else m


def _kernel_sizes_agree(prev, m, p: Plan, rows: dict, initial) -> int:
    """Largest m' <= m with the window's kernels as many rows as the ones i x K later."""
    if m == 0 or not len(initial):
        return m
    k = rows["kernel"][_window(prev, p, rows)]
    k = np.union1d(k[k >= 0], prev.touched)
    for i in range(1, m + 1):
        later = k + i * p.kernels
        if np.any(later >= len(initial)) or np.any(initial[later] != initial[k]):
            return i - 1
    return m


def _jump(state, prev: Snapshot, cur: Snapshot, m: int, p: Plan, rows: dict, initial) -> None:
    """Copy the times of the layer from c_{j-1} to c_j onto the next m layers (i x shift
    later) and move the state at c_j to c_{j+m}."""
    shift = cur.t - prev.t
    for q in np.flatnonzero(p.length):
        ref = np.arange(prev.ptr[q], cur.ptr[q])
        for i in range(1, m + 1):
            state.start[ref + i * p.length[q]] = state.start[ref] + i * shift
            state.end[ref + i * p.length[q]] = state.end[ref] + i * shift
    moved = m * shift
    for arr in (state.free, state.queue_done, state.unit_free, state.side_free):
        arr[:] = np.maximum(arr, cur.t) + moved
    state.barrier[1] = max(state.barrier[1], cur.t) + moved
    chan = state.dram.chan_state
    chan[:] = np.maximum(chan, _channel_floor(state, cur.t)) + moved
    if cur.banks is not None:
        dram_reuse.jump_banks(state, prev, cur, m)
    off = rows["fifo_offset"]
    written = cur.written + m * (cur.written - prev.written)
    read = cur.read + m * (cur.read - prev.read)
    for c in range(N_QUEUES * N_QUEUES):
        state.fifo[off[c] + read[c]:off[c] + written[c]] = cur.unread[c] + moved
    state.written[:], state.read[:] = written, read
    state.ptr[:] = cur.ptr + m * p.length
    open_k = cur.kernel_open + m * p.kernels
    state.barrier[0] = open_k
    state.pending[open_k:] = initial[open_k:]
    state.kernel_end[open_k:] = 0.0
    state.pending[cur.touched + m * p.kernels] = cur.pending
    state.kernel_end[cur.touched + m * p.kernels] = cur.kernel_end + moved
    stats = state.dram.stats_array
    stats[:] = cur.stats + m * (cur.stats - prev.stats)
