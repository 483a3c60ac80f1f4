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

N_QUEUES = 6


@njit(cache=True)
def _start_time(i, q, wait, free, unit_free, resource, fifo, fifo_offset, read, written,
                side, side_free, not_before, overlap, queue_done, kernel, barrier):
    """Earliest start of row i at the head of queue q, or -1.0 if a token is missing (or, with
    a kernel barrier, an earlier kernel still has rows to issue)."""
    t = max(free[q], not_before[i])
    k = kernel[i]
    if k >= 0:
        if k > barrier[0]:  # barrier = [open kernel, end of the closed ones + gap]
            return -1.0
        if barrier[1] > t:
            t = barrier[1]
    if not overlap[i] and queue_done[q] > t:  # every earlier row of the queue has ended
        t = queue_done[q]
    if side[i] > 0 and side_free[3 - side[i]] > t:  # blocked PIM: the other side's last end
        t = side_free[3 - side[i]]
    for s in range(N_QUEUES):
        if (wait[i] >> s) & 1:
            c = s * N_QUEUES + q
            if read[c] >= written[c]:
                return -1.0
            arrival = fifo[fifo_offset[c] + read[c]]
            if arrival > t:
                t = arrival
    if resource[i] >= 0 and unit_free[resource[i]] > t:
        t = unit_free[resource[i]]
    return t


@njit(cache=True)
def _run(queue_start, wait, release, service, is_mem, is_write, addr, rows, row_bytes, stride,
         fifo_offset, fifo_size, resource, n_resources, side, not_before, overlap, kernel,
         kernel_pending, kernel_gap_s, params, bank_state, chan_state, stats):
    n = service.shape[0]
    start = np.zeros(n)
    end = np.zeros(n)
    ptr = queue_start[:-1].copy()
    stop = queue_start[1:]
    free = np.zeros(N_QUEUES)
    fifo = np.zeros(max(fifo_size, 1))
    written = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    read = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    unit_free = np.zeros(max(n_resources, 1))
    side_free = np.zeros(3)
    queue_done = np.zeros(N_QUEUES)  # latest end of the rows each queue has issued
    pending = kernel_pending.copy()
    n_kernels = pending.shape[0]
    barrier = np.zeros(2)  # [lowest kernel with rows left, latest end of earlier kernels + gap]
    kernel_end = np.zeros(max(n_kernels, 1))
    for _ in range(n):
        best_q, best_t = -1, 0.0
        for q in range(N_QUEUES):
            if ptr[q] < stop[q]:
                t = _start_time(ptr[q], q, wait, free, unit_free, resource, fifo, fifo_offset,
                                read, written, side, side_free, not_before, overlap, queue_done,
                                kernel, barrier)
                if t >= 0.0 and (best_q < 0 or t < best_t):
                    best_q, best_t = q, t
        if best_q < 0:
            return start, end, False
        q, i, t = best_q, ptr[best_q], best_t
        for s in range(N_QUEUES):
            if (wait[i] >> s) & 1:
                read[s * N_QUEUES + q] += 1
        duration = service[i]
        if is_mem[i]:
            done = dram_transfer(params, bank_state, chan_state, stats, t, addr[i], rows[i],
                                 row_bytes[i], stride[i], is_write[i])
            if done - t > duration:
                duration = done - t
        start[i] = t
        end[i] = t + duration
        free[q] = start[i] if overlap[i] else end[i]
        if end[i] > queue_done[q]:
            queue_done[q] = end[i]
        if resource[i] >= 0:
            unit_free[resource[i]] = end[i]
        if side[i] > 0 and end[i] > side_free[side[i]]:
            side_free[side[i]] = end[i]
        k = kernel[i]
        if k >= 0:
            pending[k] -= 1
            if end[i] > kernel_end[k]:
                kernel_end[k] = end[i]
            while int(barrier[0]) < n_kernels and pending[int(barrier[0])] == 0:
                done_end = kernel_end[int(barrier[0])] + kernel_gap_s
                if done_end > barrier[1]:
                    barrier[1] = done_end
                barrier[0] += 1
        for d in range(N_QUEUES):
            if (release[i] >> d) & 1:
                c = q * N_QUEUES + d
                fifo[fifo_offset[c] + written[c]] = end[i]
                written[c] += 1
        ptr[q] += 1
    return start, end, True


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
    n = len(service)
    if resource is None:
        resource = np.full(n, -1, np.int64)
    if side is None:
        side = np.zeros(n, np.int64)
    if not_before is None:
        not_before = np.zeros(n)
    if overlap is None:
        overlap = np.zeros(n, np.bool_)
    if kernel is None:
        kernel = np.full(n, -1, np.int64)
    kernel = np.asarray(kernel, np.int64)
    pending = np.bincount(kernel[kernel >= 0], minlength=int(kernel.max(initial=-1)) + 1)
    counts = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    queues = np.repeat(np.arange(N_QUEUES), np.diff(queue_start))
    for d in range(N_QUEUES):
        sel = (release >> d) & 1 == 1
        np.add.at(counts, queues[sel] * N_QUEUES + d, 1)
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    m = memory_rows
    start, end, ok = _run(
        np.asarray(queue_start, np.int64), np.asarray(wait, np.int64),
        np.asarray(release, np.int64), np.asarray(service, np.float64),
        np.asarray(m["is_mem"], np.bool_), np.asarray(m["is_write"], np.bool_),
        np.asarray(m["addr"], np.int64), np.asarray(m["rows"], np.int64),
        np.asarray(m["row_bytes"], np.int64), np.asarray(m["stride"], np.int64),
        offset, int(counts.sum()), np.asarray(resource, np.int64),
        int(np.max(resource, initial=-1)) + 1, np.asarray(side, np.int64),
        np.asarray(not_before, np.float64), np.asarray(overlap, np.bool_), kernel,
        pending.astype(np.int64), float(kernel_gap_s), *dram.arrays())
    if not ok:
        raise RuntimeError("deadlock: no queue can proceed")
    return start, end
