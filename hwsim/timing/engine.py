"""The timing engine: one pass over the instructions in a token-consistent order.

For each instruction: start = max(end of the previous instruction of its queue, end of the
previous instruction on its unit (a unit serving several queues, like a GPU, runs one at a
time), arrival of every token it waits on); end = start + service time. Tokens travel per (source, destination) queue
pair in FIFO order and arrive when the releasing instruction ends. LD and ST share the off-chip
memory: their service time comes from the memory model at their start time (so channel and
bank state carry over); until a bank-level model is attached, one shared bandwidth pipe
(bytes / bandwidth + latency, transfers serialised on it).

The loop is compiled with numba; O(instructions x queues).
"""
from __future__ import annotations

import numpy as np
from numba import njit

N_QUEUES = 6
MEM_QUEUES = (0, 1)  # LD, ST


@njit(cache=True)
def _run(queue_start, wait, release, service, mem_bytes, is_mem, bandwidth, latency,
         fifo_offset, fifo_size, resource, n_resources):
    n = service.shape[0]
    start = np.zeros(n)
    end = np.zeros(n)
    ptr = queue_start[:-1].copy()
    stop = queue_start[1:]
    free = np.zeros(N_QUEUES)
    fifo = np.zeros(max(fifo_size, 1))
    written = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    read = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    mem_free = 0.0
    unit_free = np.zeros(max(n_resources, 1))
    done = 0
    while done < n:
        progress = False
        for q in range(N_QUEUES):
            while ptr[q] < stop[q]:
                i = ptr[q]
                ready = True
                for s in range(N_QUEUES):
                    if (wait[i] >> s) & 1:
                        c = s * N_QUEUES + q
                        if read[c] >= written[c]:
                            ready = False
                            break
                if not ready:
                    break
                t = free[q]
                for s in range(N_QUEUES):
                    if (wait[i] >> s) & 1:
                        c = s * N_QUEUES + q
                        arrival = fifo[fifo_offset[c] + read[c]]
                        read[c] += 1
                        if arrival > t:
                            t = arrival
                duration = service[i]
                if resource[i] >= 0 and unit_free[resource[i]] > t:
                    t = unit_free[resource[i]]
                if is_mem[i]:
                    if mem_free > t:
                        t = mem_free
                    transfer = mem_bytes[i] / bandwidth + latency
                    if transfer > duration:
                        duration = transfer
                    mem_free = t + mem_bytes[i] / bandwidth
                start[i] = t
                end[i] = t + duration
                free[q] = end[i]
                if resource[i] >= 0:
                    unit_free[resource[i]] = end[i]
                for d in range(N_QUEUES):
                    if (release[i] >> d) & 1:
                        c = q * N_QUEUES + d
                        fifo[fifo_offset[c] + written[c]] = end[i]
                        written[c] += 1
                ptr[q] += 1
                done += 1
                progress = True
        if not progress:
            return start, end, False
    return start, end, True


def run(queue_start, wait, release, service, mem_bytes, is_mem, bandwidth_bytes_per_s: float,
        latency_s: float, resource=None):
    """-> (start_s, end_s) arrays; raises RuntimeError on deadlock (the verifier prevents it).
    `resource[i]`: the unit row i runs on (-1: none / memory)."""
    if resource is None:
        resource = np.full(len(service), -1, np.int64)
    counts = np.zeros(N_QUEUES * N_QUEUES, np.int64)
    queues = np.repeat(np.arange(N_QUEUES), np.diff(queue_start))
    for d in range(N_QUEUES):
        sel = (release >> d) & 1 == 1
        np.add.at(counts, queues[sel] * N_QUEUES + d, 1)
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    start, end, ok = _run(queue_start.astype(np.int64), wait.astype(np.int64),
                          release.astype(np.int64), service.astype(np.float64),
                          mem_bytes.astype(np.float64), is_mem.astype(np.bool_),
                          float(bandwidth_bytes_per_s), float(latency_s), offset,
                          int(counts.sum()), np.asarray(resource, np.int64),
                          int(np.max(resource, initial=-1)) + 1)
    if not ok:
        raise RuntimeError("deadlock: no queue can proceed")
    return start, end
