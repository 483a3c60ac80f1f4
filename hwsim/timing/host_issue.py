"""Eager-mode GPU serving: the host issues one kernel per compiled op, back to back.

Without CUDA graphs every kernel is launched from Python (framework dispatch, then the driver
launch), taking `kernel_launch_s` of host time each. The host never waits for the GPU (launches
are asynchronous), so kernel j is issued at j x kernel_launch_s after the step starts and can
run no earlier than that; a kernel that is longer than the launch time lets the host run ahead
and hides the following launches. A step is therefore about max(GPU time, kernels x launch)
(docs/fidelity.md, "Per-kernel host issue"). Kernels = the compiler's ops (program metadata),
in program order; a unit with kernel_launch_s 0 (the default: CUDA graphs, compiled paths) adds
nothing.
"""
from __future__ import annotations

import numpy as np


def kernel_issue_s(op_index: np.ndarray, units: list, target) -> np.ndarray | None:
    """Earliest start (s) of every row: its op's rank among the ops that run on GPU units with
    a kernel launch cost, times that cost; None when no unit has one."""
    launch = {name: float(getattr(u, "kernel_launch_s", 0.0) or 0.0)
              for name, u in target.units.items()}
    if not any(launch.values()):
        return None
    cost = max(launch.values())  # the GPU presets have one unit
    on_gpu = np.array([u is not None and launch.get(u, 0.0) > 0 for u in units], bool)
    kernels = np.unique(op_index[on_gpu & (op_index >= 0)])
    rank = np.full(int(op_index.max(initial=-1)) + 1, -1, np.int64)
    rank[kernels] = np.arange(len(kernels))
    out = np.zeros(len(op_index))
    known = op_index >= 0
    ranks = rank[op_index[known]]
    out[known] = np.where(ranks >= 0, ranks * cost, 0.0)
    return out
