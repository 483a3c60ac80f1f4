"""Roofline bounds: per op and per program, max(work / peak, bytes / bandwidth).

Two uses. The analytical tier (`op_bounds`) takes the compiler's op FLOPs and bytes with the
peaks of the units the ops are placed on: milliseconds for a whole model, no instructions.
The program bound (`program_bound`) counts the same work units the simulator charges (MACs at
the unit's peak MAC rate, vector element-passes at the lanes' rate, DRAM bytes at the memory's
bandwidth), so `roofline_seconds <= simulated seconds` holds by construction of the service
formulas, per op and for the program; a test checks it.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import ProgramArrays
from hwsim.service import LABELS, macs, unit_index, vector_ops
from isa import Queue


def op_bound(flops: float, nbytes: float, peak_flops_per_s: float,
             bandwidth_bytes_per_s: float) -> tuple[float, str]:
    """(seconds, 'compute' | 'memory') of one op."""
    if flops == 0:
        compute = 0.0
    else:
        compute = flops / peak_flops_per_s if peak_flops_per_s > 0 else float("inf")
    memory = nbytes / bandwidth_bytes_per_s
    return (compute, "compute") if compute >= memory else (memory, "memory")


def op_bounds(ops: list[dict], bandwidth_bytes_per_s: float) -> dict:
    """ops: {name, flops, bytes, peak_flops_per_s} -> per-op bounds and their sum."""
    rows, total = [], 0.0
    for op in ops:
        seconds, bound = op_bound(op["flops"], op["bytes"], op["peak_flops_per_s"],
                                  bandwidth_bytes_per_s)
        rows.append({**op, "roofline_s": seconds, "bound": bound})
        total += seconds
    memory = sum(r["bytes"] for r in rows) / bandwidth_bytes_per_s
    return {"ops": rows, "roofline_s": total,
            "bound": "memory" if memory >= total / 2 else "compute"}


def rate_per_row(a: ProgramArrays, target, units: list) -> np.ndarray:
    """Peak work rate (work units per second) of the unit each compute row runs on."""
    rates = np.zeros(len(a))
    vec = vector_ops(a) > 0
    for r, name in enumerate(units):
        if name is None:
            continue
        unit = target.units[name]
        dtype = LABELS[int(a.dtype_in[r])]
        if vec[r] and unit.kind == "gpu":
            rates[r] = unit.peak_flops_per_s.get("fp32", max(unit.peak_flops_per_s.values()))
        elif vec[r] or unit.kind == "vector":
            table = getattr(unit, "ops_per_lane_per_cycle", None) or \
                getattr(unit, "macs_per_core_per_cycle", None) or {"int8": 1.0}
            lanes = getattr(unit, "count", 1) * getattr(unit, "lanes", 1) * \
                getattr(unit, "cores", 1)
            rates[r] = lanes * table.get(dtype, min(table.values())) * \
                target.clocks[unit.clock].freq_hz
        else:
            rates[r] = target.peak_macs_per_s(name, dtype) or \
                max(target.peak_macs_per_s(name, d) for d in LABELS.values())
            if unit.kind == "gpu":
                rates[r] *= unit.compute_efficiency_fraction
    return rates


def program_bound(a: ProgramArrays, target, units: list) -> dict:
    """Per-op and whole-program lower bounds from the work the program does: per resource
    (each unit, and the off-chip memory) the sum of work / peak; an op's bound is its largest
    per-resource sum, the program's the largest over all rows."""
    work = macs(a) + vector_ops(a)
    rates = rate_per_row(a, target, units)
    compute_s = np.divide(work, rates, out=np.zeros(len(a)), where=rates > 0)
    mem = np.isin(a.queue, [int(Queue.LD), int(Queue.ST)])
    bw = target.memories[target.main_memory].bandwidth_bytes_per_s
    unit_names, index = unit_index(units)
    names = ["memory"] + unit_names
    resource = index + 1  # 0: rows without a unit (memory, SYS)
    seconds = np.where(mem, a.fields["rows"] * a.fields["row_bytes"] / bw, compute_s)
    resource = np.where(mem, 0, resource)
    totals = np.bincount(resource, weights=seconds, minlength=len(names))
    per_resource = {name: float(t) for name, t in zip(names, totals)}
    bound = max(per_resource, key=per_resource.get)
    n_ops = len(a.op_names)
    per_op = {}
    if n_ops:
        sel = a.op_index >= 0
        key = a.op_index[sel].astype(np.int64) * len(names) + resource[sel]
        grid = np.bincount(key, weights=seconds[sel], minlength=n_ops * len(names))
        grid = grid.reshape(n_ops, len(names)).max(axis=1)
        per_op = {name: float(v) for name, v in zip(a.op_names, grid)}
    return {"roofline_s": per_resource[bound], "bound": bound, "per_resource_s": per_resource,
            "per_op_s": per_op, "resource_names": names, "row_resource": resource,
            "row_seconds": seconds}
