"""Bounds on how many layers hwsim.timing.layer_reuse may copy at a checkpoint (`_match`): the
identical run's end, host-issue bounds, GPU kernel sizes."""
from __future__ import annotations

import numpy as np

from hwsim.timing.layer_plan import N_QUEUES, Plan


def looked_at(prev, p: Plan, rows: dict) -> np.ndarray:
    """Rows the engine looks at from c_{j-1} to c_j: each queue's layer rows and next row (a
    queue without layer rows: its next row, the same row in every layer)."""
    qs = rows["queue_start"]
    parts = [np.arange(prev.ptr[q], min(prev.ptr[q] + p.length[q] + 1, qs[q + 1]))
             for q in range(N_QUEUES)]
    return np.concatenate(parts)


def layers_left(prev, p: Plan, rows: dict) -> int:
    """Layers that may be copied: the last copy's rows and each queue's next row after them
    stay in the identical run (or past the queue's end)."""
    qs, m = rows["queue_start"], 1 << 62
    for q in np.flatnonzero(p.length):
        end = p.end[q]  # a whole layer (not group) further rows are still the same rows
        room = end - prev.ptr[q] if end == qs[q + 1] else end - 1 - prev.ptr[q]
        m = min(m, int(room // p.length[q]) - 1)
    return max(m, 0)


def host_issue_agrees(prev, shift, tol, m, p: Plan, rows: dict) -> int:
    """Largest m' <= m with clamped host-issue bounds of the looked-at rows (`_window`) moved
    by i x shift."""
    if m == 0 or not rows["host_issued"]:
        return m
    nb, x = rows["not_before"], looked_at(prev, p, rows)
    i = np.arange(1, m + 1)[:, None]
    mirror = x[None, :] + i * p.length[rows["queue"][x]][None, :]
    present = mirror < rows["queue_start"][rows["queue"][x] + 1][None, :]  # else past its queue
    mirror = np.where(present, mirror, x[None, :])
    lhs = np.maximum(nb[mirror], prev.t + i * shift) - i * shift
    agree = np.abs(lhs - np.maximum(nb[x], prev.t)[None, :]) <= tol * (1 + i)
    ok = np.all(agree | ~present, axis=1)
    return int(np.argmin(ok)) if not ok.all() else m


def kernel_sizes_agree(prev, m, p: Plan, rows: dict, initial) -> int:
    """Largest m' <= m with the looked-at rows' kernels as many rows as the ones i x K later."""
    if m == 0 or not len(initial):
        return m
    k = rows["kernel"][looked_at(prev, p, rows)]
    k = np.union1d(k[k >= 0], prev.touched)
    for i in range(1, m + 1):
        later = k + i * p.kernels
        if np.any(later >= len(initial)) or np.any(initial[later] != initial[k]):
            return i - 1
    return m
