"""A GPU software stack's costs in the timing engine (targets/gpu_runtime.py, `runtime.stack`).

With a stack selected, the compiled ops are grouped into kernels as the stack fuses them
(hwsim.timing.serving_stacks), and:
- kernel k starts no earlier than k x launches per kernel x kernel_host_issue_s (the host
  issues them in order; hwsim.timing.serving_stacks.LAUNCHES_PER_KERNEL);
- kernel k starts no earlier than kernel_gap_s after every row of kernel k-1 has ended (the
  engine's kernel barrier: no cross-kernel prefetch on a GPU);
- every LD / ST of a kernel moving B bytes lasts at least its bytes / (peak bandwidth x f(B)),
  f the target's measured achieved-bandwidth curve (small kernels reach less of the peak).
Without a stack (`none`, or no `runtime:`) nothing here applies.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import ProgramArrays
from hwsim.timing.serving_stacks import LAUNCHES_PER_KERNEL, kernel_keys
from isa import Queue


def active_stack(target):
    runtime = getattr(target, "runtime", None)
    costs = getattr(runtime, "active", lambda: None)()
    return runtime, costs


def kernel_of_rows(a: ProgramArrays, fusion: str) -> np.ndarray:
    """Kernel number (0, 1, ... in program order) of every row; -1 for rows of no op. Ops that
    follow each other and share a fusion key are one kernel."""
    n_ops = int(a.op_index.max(initial=-1)) + 1
    present = np.bincount(a.op_index[a.op_index >= 0], minlength=n_ops) > 0
    ops = np.flatnonzero(present)
    rank = np.full(n_ops, -1, np.int64)
    if a.op_names is None or fusion == "none":
        rank[ops] = np.arange(len(ops))
    else:
        keys = kernel_keys(list(a.op_names), fusion)
        new = np.array([k == 0 or keys[op] != keys[ops[k - 1]] for k, op in enumerate(ops)],
                       bool)
        rank[ops] = np.cumsum(new) - 1
    out = np.full(len(a), -1, np.int64)
    owned = a.op_index >= 0
    out[owned] = rank[a.op_index[owned]]
    return out


def transfer_bytes(a: ProgramArrays) -> np.ndarray:
    """Off-chip bytes each row moves (LD / ST rows; 0 for the rest)."""
    is_mem = np.isin(a.queue, [int(Queue.LD), int(Queue.ST)])
    return np.where(is_mem, a.fields["rows"] * a.fields["row_bytes"], 0).astype(np.float64)


def apply_stack(a: ProgramArrays, service: np.ndarray, target):
    """(service with the kernels' transfers stretched to the bandwidth curve, kernel per row,
    host issue time per row, gap s) for the selected stack; None when no stack is selected."""
    runtime, costs = active_stack(target)
    if costs is None:
        return None
    kernel = kernel_of_rows(a, costs.kernel_fusion)
    nbytes = transfer_bytes(a)
    n_kernels = int(kernel.max(initial=-1)) + 1
    owned = kernel >= 0
    per_kernel = np.bincount(kernel[owned], weights=nbytes[owned], minlength=n_kernels)
    peak = target.memories[target.main_memory].bandwidth_bytes_per_s
    fraction = np.array([runtime.bandwidth_fraction(b) if b > 0 else 1.0 for b in per_kernel])
    stretched = service.copy()
    rows = owned & (nbytes > 0)
    stretched[rows] = np.maximum(service[rows], nbytes[rows] / (peak * fraction[kernel[rows]]))
    issue_s = costs.kernel_host_issue_s * LAUNCHES_PER_KERNEL[costs.kernel_fusion]
    not_before = np.where(owned, kernel * issue_s, 0.0)
    return stretched, kernel, not_before, float(costs.kernel_gap_s)
