"""Roofline bounds: per op and per program, max(work / peak, bytes / bandwidth).

One roofline: the program bound (`program_bound`) counts the same work units the simulator
charges (MACs at the unit's peak MAC rate, vector element-passes at the lanes' rate, on a GPU
at the fp32 CUDA-core peak, never the tensor-core peak; DRAM bytes at the memory's bandwidth),
so `roofline_seconds <= simulated seconds` holds by construction of the service formulas, per
op and for the program; a test checks it. `hwsim roofline` and `simulate`'s roofline_seconds
both come from it (`program_roofline` adds the per-op rows the roofline table and plot show),
so the two commands print the same bound for the same run. `op_bound` / `op_bounds` are the
single-op formula, kept for callers that have only FLOPs and bytes.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import ProgramArrays, base_of, flatten, gathered, per_base_row
from hwsim.service import LABELS, any_of, macs, per_value, unit_index, unit_of_rows, vector_ops
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
    names, index = unit_index(units)
    vec = vector_ops(a) > 0
    rates = np.zeros(len(a))
    used = index >= 0
    if not used.any():
        return rates

    def rate(key: int) -> float:  # the rate of (unit, dtype, vector row), computed once
        unit_name, dtype, is_vec = names[key // 512], LABELS[key // 2 % 256], key % 2
        unit = target.units[unit_name]
        if is_vec and unit.kind == "gpu":
            return unit.peak_flops_per_s.get("fp32", max(unit.peak_flops_per_s.values()))
        if is_vec or unit.kind == "vector":
            table = getattr(unit, "ops_per_lane_per_cycle", None) or \
                getattr(unit, "macs_per_core_per_cycle", None) or {"int8": 1.0}
            lanes = getattr(unit, "count", 1) * getattr(unit, "lanes", 1) * \
                getattr(unit, "cores", 1)
            return lanes * table.get(dtype, min(table.values())) * \
                target.clocks[unit.clock].freq_hz
        out = target.peak_macs_per_s(unit_name, dtype) or \
            max(target.peak_macs_per_s(unit_name, d) for d in LABELS.values())
        return out * unit.compute_efficiency_fraction if unit.kind == "gpu" else out
    key = index * 512 + a.dtype_in.astype(np.int64) * 2 + vec
    rates[used] = per_value(key[used], rate)
    return rates


def program_bound(a: ProgramArrays, target, units: list) -> dict:
    """Per-op and whole-program lower bounds from the work the program does: per resource
    (each unit, and the off-chip memory) the sum of work / peak; an op's bound is its largest
    per-resource sum, the program's the largest over all rows. `units`: the unit of each row
    of base_of(a) (hwsim.service.unit_of_rows): a row's seconds and resource are its own
    columns' and are worked out per row of a compact program's short program and gathered;
    the sums run over every row in order."""
    unit_names, _ = unit_index(units)
    names = ["memory"] + unit_names
    seconds = per_base_row(a, _row_seconds, target, units)
    resource = per_base_row(a, _row_resource, units)
    totals = np.bincount(resource, weights=seconds, minlength=len(names))
    per_resource = {name: float(t) for name, t in zip(names, totals)}
    bound = max(per_resource, key=per_resource.get)
    n_ops = len(a.op_names)
    per_op, per_op_resource = {}, {}
    if n_ops:
        sel = a.op_index >= 0
        key = a.op_index[sel].astype(np.int64) * len(names) + resource[sel]
        grid = np.bincount(key, weights=seconds[sel], minlength=n_ops * len(names))
        grid = grid.reshape(n_ops, len(names))
        per_op = {name: float(v) for name, v in zip(a.op_names, grid.max(axis=1))}
        per_op_resource = {name: names[int(j)] for name, j in
                           zip(a.op_names, grid.argmax(axis=1))}
    return {"roofline_s": per_resource[bound], "bound": bound, "per_resource_s": per_resource,
            "per_op_s": per_op, "per_op_resource": per_op_resource, "resource_names": names}


def _row_seconds(a: ProgramArrays, target, units: list) -> np.ndarray:
    """Per row: its off-chip bytes / bandwidth (LD, ST), else its work / its unit's peak."""
    work = macs(a) + vector_ops(a)
    rates = rate_per_row(a, target, units)
    compute_s = np.divide(work, rates, out=np.zeros(len(a)), where=rates > 0)
    mem = any_of(a.queue, [int(Queue.LD), int(Queue.ST)])
    bw = target.memories[target.main_memory].bandwidth_bytes_per_s
    return np.where(mem, a.fields["rows"] * a.fields["row_bytes"] / bw, compute_s)


def _row_resource(a: ProgramArrays, units: list) -> np.ndarray:
    """Per row: 0 (the memory, and rows without a unit), else 1 + its unit's index."""
    _, index = unit_index(units)
    return np.where(any_of(a.queue, [int(Queue.LD), int(Queue.ST)]), 0, index + 1)


def program_roofline(program, target) -> dict:
    """`program_bound` of `program` on `target` with one row per op: {name, unit (the compute
    unit it runs on, None for pure transfers), flops (2 per MAC + 1 per vector element-pass),
    bytes (off-chip bytes its LD / ST move), peak_flops_per_s (of its fastest compute row),
    roofline_s (its largest per-resource time), bound ("memory" or "compute")}; plus
    roofline_s, bound (the limiting resource: "memory" or a unit name) and per_resource_s."""
    a = flatten(program)
    base_units = unit_of_rows(base_of(a), target)
    bound = program_bound(a, target, base_units)
    units = gathered(a, np.array(base_units + [None], object)[:-1])
    rates = per_base_row(a, rate_per_row, target, base_units)
    mats = per_base_row(a, macs)
    flops = 2 * mats + per_base_row(a, vector_ops)
    peak = np.where(mats > 0, 2 * rates, rates)
    moved = np.where(any_of(a.queue, [int(Queue.LD), int(Queue.ST)]),
                     a.fields["rows"] * a.fields["row_bytes"], 0)
    rows = []
    for i, name in enumerate(a.op_names):
        sel = np.flatnonzero(a.op_index == i)
        compute = [r for r in sel if units[r] is not None]
        rows.append({"name": name, "unit": units[compute[0]] if compute else None,
                     "flops": float(flops[sel].sum()), "bytes": float(moved[sel].sum()),
                     "peak_flops_per_s": float(peak[compute].max()) if compute else 0.0,
                     "roofline_s": bound["per_op_s"][name],
                     "bound": "memory" if bound["per_op_resource"][name] == "memory"
                     else "compute"})
    return {"ops": rows, "roofline_s": bound["roofline_s"], "bound": bound["bound"],
            "per_resource_s": bound["per_resource_s"]}
