"""The timing engine: one pass over the instructions, in order of start time.

For each instruction: start = max(end of the previous instruction of its queue, end of the
previous instruction on its unit (a unit serving several queues, like a GPU, runs one at a
time), arrival of every token it waits on); end = start + service time. Tokens travel per
(source, destination) queue pair in FIFO order and arrive when the releasing instruction ends.
LD and ST are timed by the off-chip memory model (hwsim.memory: channels, banks, row buffers,
refresh) at their start time; the engine always issues the ready queue head that can start
earliest, so the memory sees requests in time order.

Blocked PIM (`blocked`, hwsim.timing.pim_blocking): with a single row buffer per bank, a row
on side 1 (LD / ST) starts no earlier than the end of every side-2 row (PIM) issued before it,
and vice versa; rows of the same side overlap as before.

Host-issued kernels (`not_before`, hwsim.timing.host_issue): a row starts no earlier than the
time the host has issued its kernel.

Kernel barrier (`kernel`, `kernel_gap_s`, hwsim.timing.gpu_stack): a row of kernel k starts
only once every row of kernels 0..k-1 has been issued, and no earlier than kernel_gap_s after
the latest end among them (a GPU runs one kernel of a stream after another).

Overlapping rows (`overlap`, hwsim.timing.pim_channels): such a row waits for its queue
predecessor to start, not to end (rows on different per-channel resources run side by side);
its tokens arrive when it ends. A row that does not overlap waits for every earlier row of its
queue to end.

The loop is compiled with numba; O(instructions x queues).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from hwsim.memory.kernel import dram_transfer
from hwsim.timing import layer_reuse

N_QUEUES = 6
_N_MASKS = 1 << N_QUEUES  # token masks: bit d = a token for queue d
_MASK_BITS = (np.arange(_N_MASKS)[:, None] >> np.arange(N_QUEUES)) & 1  # [mask, d]: bit d set
_QUEUE_IDS = np.arange(N_QUEUES, dtype=np.int8)


@njit(cache=True)
def _run(queue_start, wait, release, service, is_mem, is_write, addr, rows, row_bytes, stride,
         fifo_offset, resource, side, not_before, overlap, kernel, kernel_gap_s, params,
         bank_state, chan_state, stats, ptr, free, fifo, written, read, unit_free, side_free,
         queue_done, pending, barrier, kernel_end, start, end, stops):
    """Issue rows until every queue is done (-> (0, 0.0, -1)), no queue can proceed (-> (1,
    0.0, -1)), or the next row to issue is row `stops[q]` of a queue q (-> (2, its start time,
    q), the state left as it was before that row: calling again with other stops goes on from
    there; -1: no stop on that queue). Every argument after `stats` is engine state
    (`EngineState`), advanced in place."""
    stop = queue_start[1:]
    n_kernels = pending.shape[0]
    kernels = kernel.shape[0] > 0  # an empty `kernel`: no row belongs to a GPU kernel
    while True:
        best_q, best_t = -1, 0.0
        for q in range(N_QUEUES):
            i = ptr[q]
            if i >= stop[q]:
                continue
            # the earliest start of row i at the head of queue q; none (`continue`) if a token
            # is missing or, with a kernel barrier, an earlier kernel still has rows to issue.
            # Written out here, not a helper: a compiled helper taking the state arrays counts
            # their references (an atomic add and a call apiece, ~24 per queue and row)
            t = max(free[q], not_before[i])
            k = kernel[i] if kernels else -1
            if k >= 0:
                if k > barrier[0]:  # barrier = [open kernel, end of the closed ones + gap]
                    continue
                if barrier[1] > t:
                    t = barrier[1]
            if not overlap[i] and queue_done[q] > t:  # every earlier row of the queue has ended
                t = queue_done[q]
            if side[i] > 0 and side_free[3 - side[i]] > t:  # blocked PIM: the other side's end
                t = side_free[3 - side[i]]
            missing = False
            for s in range(N_QUEUES):
                if (wait[i] >> s) & 1:
                    c = s * N_QUEUES + q
                    if read[c] >= written[c]:
                        missing = True
                        break
                    arrival = fifo[fifo_offset[c] + read[c]]
                    if arrival > t:
                        t = arrival
            if missing:
                continue
            if resource[i] >= 0 and unit_free[resource[i]] > t:
                t = unit_free[resource[i]]
            if best_q < 0 or t < best_t:  # a missing token `continue`d above
                best_q, best_t = q, t
        if best_q < 0:
            done = True
            for q in range(N_QUEUES):
                if ptr[q] < stop[q]:
                    done = False
            return (0 if done else 1), 0.0, -1
        q, i, t = best_q, ptr[best_q], best_t
        if i == stops[q]:
            return 2, t, q
        for s in range(N_QUEUES):
            if (wait[i] >> s) & 1:
                read[s * N_QUEUES + q] += 1
        duration = service[i]
        if is_mem[i]:
            done_s = dram_transfer(params, bank_state, chan_state, stats, t, addr[i],
                                   np.int64(rows[i]), np.int64(row_bytes[i]), stride[i],
                                   is_write[i])
            if done_s - t > duration:
                duration = done_s - t
        start[i] = t
        end[i] = t + duration
        free[q] = start[i] if overlap[i] else end[i]
        if end[i] > queue_done[q]:
            queue_done[q] = end[i]
        if resource[i] >= 0:
            unit_free[resource[i]] = end[i]
        if side[i] > 0 and end[i] > side_free[side[i]]:
            side_free[side[i]] = end[i]
        k = kernel[i] if kernels else -1
        if k >= 0:
            pending[k] -= 1
            if end[i] > kernel_end[k]:
                kernel_end[k] = end[i]
            while int(barrier[0]) < n_kernels and pending[int(barrier[0])] == 0:
                closed_end = kernel_end[int(barrier[0])] + kernel_gap_s
                if closed_end > barrier[1]:
                    barrier[1] = closed_end
                barrier[0] += 1
        for d in range(N_QUEUES):
            if (release[i] >> d) & 1:
                c = q * N_QUEUES + d
                fifo[fifo_offset[c] + written[c]] = end[i]
                written[c] += 1
        ptr[q] += 1


class EngineState:
    """Everything `_run` advances, as arrays (hwsim.timing.layer_reuse reads and sets it)."""

    def __init__(self, n: int, queue_start, fifo_size: int, n_resources: int, pending, dram):
        self.ptr = np.asarray(queue_start[:-1], np.int64).copy()
        self.free = np.zeros(N_QUEUES)
        self.fifo = np.zeros(max(fifo_size, 1))
        self.written = np.zeros(N_QUEUES * N_QUEUES, np.int64)
        self.read = np.zeros(N_QUEUES * N_QUEUES, np.int64)
        self.unit_free = np.zeros(max(n_resources, 1))
        self.side_free = np.zeros(3)
        self.queue_done = np.zeros(N_QUEUES)  # latest end of the rows each queue has issued
        self.pending = pending.copy()         # rows of each kernel not yet issued
        self.barrier = np.zeros(2)  # [lowest kernel with rows left, its start bound: ends + gap]
        self.kernel_end = np.zeros(max(len(pending), 1))
        self.start, self.end = np.zeros(n), np.zeros(n)
        self.dram = dram

    def arrays(self) -> tuple:
        return (*self.dram.arrays()[1:], self.ptr, self.free, self.fifo, self.written,
                self.read, self.unit_free, self.side_free, self.queue_done, self.pending,
                self.barrier, self.kernel_end, self.start, self.end)


def run(queue_start, wait, release, service, memory_rows, dram, resource=None, side=None,
        not_before=None, overlap=None, kernel=None, kernel_gap_s=0.0):
    """-> (start_s, end_s); raises RuntimeError on deadlock (the verifier prevents it).

    memory_rows: dict of per-row arrays is_mem, is_write, addr, rows, row_bytes, stride (bytes);
    dram: a hwsim.memory.DramModel (its state is advanced in place).
    `resource[i]`: the unit row i runs on (-1: none). `side[i]`: 0, or 1 / 2 for rows that
    exclude each other (blocked PIM: hwsim.timing.pim_blocking.memory_sides); None: no blocking.
    `not_before[i]`: earliest start of row i (s; eager GPU kernels issued by the host,
    hwsim.timing.host_issue); None: no such bound. `overlap[i]`: row i may run beside earlier
    rows of its queue (channel-local PIM GEMVs, hwsim.timing.pim_channels); None: none may.
    `kernel[i]`: the GPU kernel of row i (0, 1, ... non-decreasing along every queue; -1: none)
    for the kernel barrier with `kernel_gap_s` (hwsim.timing.gpu_stack); None: no barrier."""
    start, end, _ = run_layers(queue_start, wait, release, service, memory_rows, dram, resource,
                               side, not_before, overlap, kernel, kernel_gap_s)
    return start, end


def run_layers(queue_start, wait, release, service, memory_rows, dram, resource=None,
               side=None, not_before=None, overlap=None, kernel=None, kernel_gap_s=0.0,
               layers="switched off", band=None):
    """`run` that reuses one layer's timing for the next identical layers where the start
    state allows (hwsim.timing.layer_reuse); `layers`: each row's decoder layer (-1: none,
    hwsim.timing.layer_plan.row_layers), or a string saying why every row is simulated;
    `band`: the rows leave out layers of a longer program (hwsim.timing.window_reuse).
    -> (start_s, end_s, the JSON `reuse` report)."""
    rows = _engine_rows(queue_start, wait, release, service, memory_rows, resource, side,
                        not_before, overlap, kernel, kernel_gap_s)
    qs = rows["queue_start"]
    queues = np.repeat(_QUEUE_IDS, qs[1:] - qs[:-1])
    counts = token_counts(queues, rows["release"])
    offsets = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    rows["fifo_offset"] = offsets
    rows["fifo_size"], rows["queue"] = int(counts.sum()), queues
    rows["host_issued"] = bool(rows["not_before"].any())  # layer_reuse: bounds to compare
    kernel = rows["kernel"]
    pending = np.bincount(kernel[kernel >= 0], minlength=int(kernel.max(initial=-1)) + 1)
    state = EngineState(len(rows["service"]), rows["queue_start"], rows["fifo_size"],
                        int(np.max(rows["resource"], initial=-1)) + 1, pending.astype(np.int64),
                        dram)
    report = layer_reuse.run_reusing(_loop(rows, dram), rows, state, layers, band)
    return state.start, state.end, report


def token_counts(queues: np.ndarray, release: np.ndarray) -> np.ndarray:
    """Tokens each (source s, destination d) pair carries, at s * N_QUEUES + d, from each
    row's queue and release mask (bit d: a token for queue d): rows per (queue, mask), then
    each mask's bits; integer counts, one key per row and no per-row-and-bit temporaries."""
    masks = np.bincount(queues.astype(np.int64) * _N_MASKS + release,
                        minlength=N_QUEUES * _N_MASKS)
    return (masks.reshape(N_QUEUES, _N_MASKS) @ _MASK_BITS).ravel()


def _loop(rows: dict, dram):
    """step(state, stops) -> (code, t, queue): `_run` on these rows from `state` up to the
    first of the rows `stops[q]` (-1: none on queue q) that is next to issue."""
    fixed = tuple(rows[k] for k in _ROW_ARGS) + (dram.params,)

    def step(state: EngineState, stops: np.ndarray):
        code, t, q = _run(*fixed, *state.arrays(), np.asarray(stops, np.int64))
        if code == 1:
            raise RuntimeError("deadlock: no queue can proceed")
        return code, t, q
    return step


_ROW_ARGS = ("queue_start", "wait", "release", "service", "is_mem", "is_write", "addr", "rows",
             "row_bytes", "stride", "fifo_offset", "resource", "side", "not_before", "overlap",
             "kernel", "kernel_gap_s")


def _engine_rows(queue_start, wait, release, service, m, resource, side, not_before, overlap,
                 kernel, kernel_gap_s) -> dict:
    """Every per-row array `_run` reads, in its fixed dtype (one compile serves every call);
    token masks as uint8 (N_QUEUES = 6 bits), defaults built in their dtype (no copies); the
    ISA's 16-bit `rows` and 24-bit `row_bytes` as int32 (`dram_stride_bytes` is 40 bits and
    addresses wider: int64), units and channels (`resource`) as int16, `side` (0-2) int8."""
    n = len(service)
    return {
        "queue_start": np.asarray(queue_start, np.int64), "wait": np.asarray(wait, np.uint8),
        "release": np.asarray(release, np.uint8), "service": np.asarray(service, np.float64),
        "is_mem": np.asarray(m["is_mem"], np.bool_),
        "is_write": np.asarray(m["is_write"], np.bool_), "addr": np.asarray(m["addr"], np.int64),
        "rows": narrow(m["rows"], np.int32), "row_bytes": narrow(m["row_bytes"], np.int32),
        "stride": np.asarray(m["stride"], np.int64),
        "resource": np.full(n, -1, np.int16) if resource is None else narrow(resource, np.int16),
        "side": np.zeros(n, np.int8) if side is None else narrow(side, np.int8),
        "not_before": np.zeros(n) if not_before is None else np.asarray(not_before, np.float64),
        "overlap": np.zeros(n, np.bool_) if overlap is None else np.asarray(overlap, np.bool_),
        # no kernels: an empty column (`_run` reads -1 for every row), not n x -1
        "kernel": np.zeros(0, np.int64) if kernel is None else np.asarray(kernel, np.int64),
        "kernel_gap_s": float(kernel_gap_s)}


def narrow(values, dtype) -> np.ndarray:
    """`values` as `dtype` (no copy where it is that already); OverflowError where one does not
    fit (the engine's columns have one dtype each: hwsim.jit_warm compiles one signature)."""
    values = np.asarray(values)
    if values.dtype != dtype and len(values):
        info = np.iinfo(dtype)
        if values.min() < info.min or values.max() > info.max:
            raise OverflowError(f"an engine column does not fit {np.dtype(dtype).name}")
    return values.astype(dtype, copy=False)
