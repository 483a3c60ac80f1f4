"""Eager-mode GPU serving: the host issues one kernel per compiled op, back to back.

Without CUDA graphs every kernel is launched from Python (framework dispatch, then the driver
launch), taking `kernel_launch_s` of host time each. The host never waits for the GPU (launches
are asynchronous), so kernel j is issued at j x kernel_launch_s after the step starts and can
run no earlier than that; a kernel that is longer than the launch time lets the host run ahead
and hides the following launches. A step is therefore about max(GPU time, kernels x launch)
(docs/fidelity.md, "Per-kernel host issue"). Kernels = the compiler's ops (program metadata),
in program order, grouped as the unit's serving stack fuses them (`kernel_fusion`,
hwsim.timing.serving_stacks); a unit with kernel_launch_s 0 (the default: CUDA graphs, compiled
paths) adds nothing.
"""
from __future__ import annotations

import numpy as np

from hwsim.service import unit_index
from hwsim.timing.serving_stacks import kernel_keys
from targets.frozen import FrozenDict, remembered_fact


def kernel_issue_s(op_index: np.ndarray, units, target, op_names: list | None = None, *,
                   resource: tuple | None = None) -> np.ndarray | None:
    """Earliest start (s) of every row: the rank of its op's kernel among the kernels that run
    on GPU units with a kernel launch cost, times that cost; None when no unit has one.
    `op_names` (program metadata) let the unit's `kernel_fusion` stack merge ops into one
    kernel; without them every op is a kernel. `resource`: (names, per-row index) of `units`
    (hwsim.service.unit_index) where the caller has them; then `units` is not read."""
    launch = remembered_fact(target, "kernel_launch_s", lambda: _launch_costs(target))
    if not any(launch.values()):
        return None
    cost = max(launch.values())  # the GPU presets have one unit
    names, index = resource if resource is not None else unit_index(units)
    launching = np.array([launch.get(name, 0.0) > 0 for name in names] + [False], bool)
    on_gpu = launching[index]  # index -1 (no unit) -> the trailing False
    on_unit = index >= 0
    # an op with rows on a launching unit is a kernel; so is a pure data-movement op (no
    # compute rows: KV-cache write, embedding gather), which a GPU runs as a copy kernel
    ops = op_index >= 0
    n_ops = int(op_index.max(initial=-1)) + 1
    gpu_rows = np.bincount(op_index[ops & on_gpu], minlength=n_ops)
    unit_rows = np.bincount(op_index[ops & on_unit], minlength=n_ops)
    present = np.bincount(op_index[ops], minlength=n_ops)
    kernels = np.flatnonzero((gpu_rows > 0) | ((unit_rows == 0) & (present > 0)))
    rank = np.full(n_ops, -1, np.int64)
    rank[kernels] = _kernel_ranks(kernels, op_names, _fusion(target, launch))
    out = np.zeros(len(op_index))
    known = op_index >= 0
    ranks = rank[op_index[known]]
    out[known] = np.where(ranks >= 0, ranks * cost, 0.0)
    return out


def _launch_costs(target) -> FrozenDict:
    """Unit name -> its kernel launch cost (s; 0.0 where none), kept per frozen target."""
    return FrozenDict({name: float(getattr(u, "kernel_launch_s", 0.0) or 0.0)
                       for name, u in target.units.items()})


def _fusion(target, launch: dict) -> str:
    stacks = {getattr(target.units[n], "kernel_fusion", "none") for n, c in launch.items() if c}
    return stacks.pop() if len(stacks) == 1 else "none"


def _kernel_ranks(kernels: np.ndarray, op_names: list | None, stack: str) -> np.ndarray:
    """Kernel number of each GPU op (in program order): a new kernel wherever the fused key
    changes from the previous GPU op's."""
    if op_names is None or stack == "none":
        return np.arange(len(kernels))
    keys = kernel_keys(op_names, stack)
    new = np.array([k == 0 or keys[op] != keys[kernels[k - 1]] for k, op in enumerate(kernels)],
                   bool)
    return np.cumsum(new) - 1
