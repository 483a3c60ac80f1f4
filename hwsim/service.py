"""Service time and work of every compute instruction, from the unit that runs it.

`service_seconds` is what the timing engine charges a row of the MM / MV / VEC / SYS queues
(LD and ST are timed by the memory model). It is the larger of the unit's closed-form compute
time (hwsim.unit_models) and the time its on-chip operands need through their buffers' ports.
`macs` and `vector_ops` are the work the energy model and the roofline count.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import SMALL_ROWS, ProgramArrays, once_per_arrays
from hwsim.timing.awq_gemm import awq_gemm_seconds
from hwsim.timing.cuda_core_gemm import cuda_core_gemm_seconds
from hwsim.timing.pim_channels import pim_gemv_seconds
from hwsim.unit_models import (VECTOR_PASSES, ceil_div, dsp_chain_cycles, systolic_cycles,
                               systolic_os_cycles, vector_cycles)
from isa import Dtype, Opcode, Queue
from targets.frozen import remembered_fact

MATRIX = (Opcode.MATMUL, Opcode.GEMV, Opcode.PIM_GEMV)
_MATRIX_CODES = [int(o) for o in MATRIX]
LABELS = {int(d): d.label for d in Dtype}
INT_DTYPES = [int(d) for d in Dtype if d.label.startswith("int") and d.label != "int32"]
FLOAT_DTYPES = [int(d) for d in Dtype if d.label in ("fp16", "bf16", "fp32")]
INT4 = int(Dtype.INT4)
# membership as tables indexed by dtype value (one lookup instead of a comparison per choice)
_IS_INT = np.isin(np.arange(max(int(d) for d in Dtype) + 1), INT_DTYPES)
_IS_FLOAT = np.isin(np.arange(max(int(d) for d in Dtype) + 1), FLOAT_DTYPES)
# VECTOR_PASSES as a table indexed by opcode (0 for every other opcode)
_PASSES_BY_OPCODE = np.zeros(max(int(o) for o in Opcode) + 1, np.int64)
for _op, _passes in VECTOR_PASSES.items():
    _PASSES_BY_OPCODE[int(_op)] = _passes


def any_of(values: np.ndarray, choices) -> np.ndarray:
    """np.isin(values, choices) for a few integer choices: one comparison per choice, without
    np.isin's set-up (about 20 us a call; one simulation makes a dozen calls)."""
    out = np.zeros(values.shape, bool)
    for choice in choices:
        out |= values == choice
    return out


def kept_fraction(a: ProgramArrays) -> np.ndarray:
    return once_per_arrays(a, "kept_fraction", _kept_fraction)


def _kept_fraction(a: ProgramArrays) -> np.ndarray:
    f = a.fields
    sparse = f["sparse_mode"] > 0
    return np.where(sparse, f["sparse_n"] / np.maximum(f["sparse_m"], 1), 1.0)


def macs(a: ProgramArrays) -> np.ndarray:
    """Multiply-accumulates each matrix row performs (N:M sparse: only the kept weights)."""
    return once_per_arrays(a, "macs", _macs)


def _macs(a: ProgramArrays) -> np.ndarray:
    f = a.fields
    is_matrix = any_of(a.opcode, _MATRIX_CODES)
    dense = f["m"] * f["n"] * f["k"] * f["count"]
    return np.where(is_matrix, dense * kept_fraction(a), 0.0)


def vector_ops(a: ProgramArrays) -> np.ndarray:
    """Element operations of each VEC row: elements x passes."""
    return once_per_arrays(a, "vector_ops", _vector_ops)


def _vector_ops(a: ProgramArrays) -> np.ndarray:
    passes = _PASSES_BY_OPCODE[a.opcode]
    return a.fields["rows"] * a.fields["cols"] * a.fields["count"] * passes


def per_value(values: np.ndarray, fn) -> np.ndarray:
    """np.array([fn(v) for v in values]), calling fn once per distinct value (rows repeat a
    few dtypes or units; the per-row values are the same numbers)."""
    if len(values) <= SMALL_ROWS:
        listed = values.tolist()
        table = {v: fn(v) for v in sorted(set(listed))}
        return np.array([table[v] for v in listed]) if listed else np.array([])
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([fn(v) for v in distinct.tolist()])[inverse.reshape(-1)]


class RowUnits(list):
    """unit_of_rows' answer, a list of per-row unit names that also keeps unit_index's answer
    for it (`indexed`), so the callers that need the index do not look every row up again."""
    __slots__ = ("indexed",)


def unit_of_rows(a: ProgramArrays, target) -> list:
    """Name of the unit each row runs on (None for LD / ST / SYS)."""
    def name(key: int):
        q, u = divmod(key, 1 << 32)
        if q in (Queue.LD, Queue.ST, Queue.SYS):
            return None
        return target.units_for_queue(Queue(q).name)[u]
    keys = a.queue.astype(np.int64) * (1 << 32) + a.fields["unit"]
    if len(keys) <= SMALL_ROWS:  # a dict instead of np.unique's sort and gathers
        listed = keys.tolist()
        per_key = {k: name(k) for k in set(listed)}
        names = sorted({u for u in per_key.values() if u is not None})
        lookup = {unit: i for i, unit in enumerate(names)}
        lookup[None] = -1
        out = RowUnits(per_key[k] for k in listed)
        out.indexed = (names, np.array([lookup[u] for u in out], np.int64).reshape(-1))
        return out
    distinct, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    per_key = [name(k) for k in distinct.tolist()]
    names = sorted({u for u in per_key if u is not None})
    lookup = {unit: i for i, unit in enumerate(names)}
    out = RowUnits(np.array(per_key + [None], dtype=object)[:-1][inverse].tolist())
    out.indexed = (names, np.array([lookup.get(u, -1) for u in per_key], np.int64)[inverse])
    return out


def unit_index(units: list) -> tuple[list[str], np.ndarray]:
    """(sorted names of the units used, per-row index into them; -1 for LD / ST / SYS rows)."""
    indexed = getattr(units, "indexed", None)
    if indexed is not None:  # unit_of_rows kept it
        return list(indexed[0]), indexed[1].copy()
    names = sorted({u for u in units if u is not None})
    lookup = {name: i for i, name in enumerate(names)}
    lookup[None] = -1
    return names, np.fromiter(map(lookup.__getitem__, units), np.int64, len(units))


def service_seconds(a: ProgramArrays, target, units: list) -> np.ndarray:
    out = np.zeros(len(a))
    sys_rows = a.queue == int(Queue.SYS)
    out[sys_rows] = 1e-9
    names, index = unit_index(units)
    ops, dequant = vector_ops(a), dequant_weights(a)  # once, not once per unit
    for i, name in enumerate(names):
        rows = index == i
        out[rows] = _unit_seconds(a, rows, target, name, ops[rows], dequant[rows])
    return np.maximum(out, _buffer_seconds(a, target))


_UNIT_COLUMNS = ("m", "n", "k", "count", "rows", "cols")


def _unit_seconds(a: ProgramArrays, rows, target, name: str, ops: np.ndarray,
                  dequant: np.ndarray) -> np.ndarray:
    """Seconds of the rows `rows` (a mask) on unit `name`; `ops`, `dequant`: their
    vector_ops and dequant_weights."""
    unit = target.units[name]
    f = {c: a.fields[c][rows] for c in _UNIT_COLUMNS}  # the columns read below
    opcode, dtype = a.opcode[rows], a.dtype_in[rows]
    m, n, k, g = f["m"], f["n"], f["k"], f["count"]
    is_vec = _PASSES_BY_OPCODE[opcode] > 0  # every VECTOR_PASSES opcode has 1 pass or more
    freq = target.clocks[unit.clock].freq_hz
    if unit.kind == "gpu":
        vec_peak = unit.peak_flops_per_s.get("fp32", max(unit.peak_flops_per_s.values()))
        mat = _gpu_matrix_seconds(a, rows, target, name, dequant)
        return np.where(is_vec, ops / (vec_peak * unit.compute_efficiency_fraction), mat)
    if unit.kind == "vector" or (is_vec.any() and unit.kind != "pim"):
        lanes = getattr(unit, "count", 1) * getattr(unit, "lanes", 1)
        rates = getattr(unit, "ops_per_lane_per_cycle", None) or {"int8": 1.0}
        rate = per_value(dtype, lambda d: rates.get(LABELS[d], min(rates.values())))
        vec = vector_cycles(f["rows"] * f["cols"] * g, ops // np.maximum(
            f["rows"] * f["cols"] * g, 1), lanes, rate) / freq
        if unit.kind == "vector":
            mat = vector_cycles(m * n * k * g, 1, lanes, rate) / freq  # GEMV on the lanes
            return np.where(is_vec, vec, mat)
    else:
        vec = np.zeros(len(m))
    if unit.kind == "systolic_array":
        if unit.dataflow == "output_stationary":
            mat = systolic_os_cycles(m, n, k, g, unit.rows, unit.cols, unit.count) / freq
        else:
            mat = systolic_cycles(m, n, k, g, unit.rows, unit.cols, unit.count,
                                  unit.weight_preload_overlap) / freq
        rate = per_value(dtype, lambda d: unit.macs_per_pe_per_cycle.get(LABELS[d], 0.0) or 1e-9)
        mat = mat / np.minimum(rate, 1.0)  # a dtype at a fraction of a MAC per PE per cycle
    elif unit.kind == "dsp_chain":
        mech = getattr(target, "mechanisms", None)
        sparse_on = getattr(mech, "sparse_dsp_chain", True)
        k_eff = np.where(sparse_on, np.ceil(k * kept_fraction(a)[rows]), k).astype(np.int64)
        pack = int(max(unit.macs_per_dsp_per_cycle.values()))
        mat = dsp_chain_cycles(m, n, k_eff, g, unit.cores * unit.chains_per_core,
                               unit.dsps_per_chain, pack) / freq
        if unit.mv_chains_per_core:  # GEMV runs in MV mode: fewer chains, one token per cycle
            mv = dsp_chain_cycles(m, n, k_eff, g, unit.cores * unit.mv_chains_per_core,
                                  unit.dsps_per_chain, 1) / freq
            mat = np.where(opcode == int(Opcode.GEMV), mv, mat)
    elif unit.kind == "pim":
        mem = target.memories[unit.memory]
        return pim_gemv_seconds(m, n, k, g, unit, target, mem.channels * mem.banks_per_channel)
    elif unit.kind == "cpu":
        rate = per_value(dtype, lambda d: unit.macs_per_core_per_cycle.get(LABELS[d], 0.0) or
                         min(unit.macs_per_core_per_cycle.values()))
        mat = ceil_div(macs(a)[rows], 1) / (unit.cores * rate * freq)
        vec = ops / (unit.cores * rate * freq)
    else:
        raise ValueError(f"unit {name} of kind {unit.kind} has no service model")
    if unit.dequant_weights_per_cycle is not None:  # a pipeline stage ahead of the MACs
        mat = np.maximum(mat, dequant / (unit.dequant_weights_per_cycle * freq))
    return np.where(is_vec, vec, mat)


def _gpu_matrix_seconds(a: ProgramArrays, rows, target, name: str, dequant) -> np.ndarray:
    """A GPU's matrix rows: on the tensor cores at the peak for the input dtype, plus the
    weight-only dequantization; or, with runtime.gemm_datapath = cuda_core, on the CUDA cores
    (hwsim.timing.cuda_core_gemm)."""
    unit, dtype, f = target.units[name], a.dtype_in[rows], a.fields
    cuda_core = getattr(getattr(target, "runtime", None), "cuda_core", lambda: None)()
    if cuda_core is not None:
        weights = f["n"][rows] * f["k"][rows] * f["count"][rows] * kept_fraction(a)[rows]
        return cuda_core_gemm_seconds(macs(a)[rows], weights, f["m"][rows],
                                      any_of(a.dtype_w[rows], INT_DTYPES), target, unit,
                                      cuda_core)
    peak = per_value(dtype, lambda d: unit.gemm_macs_per_s(LABELS[d]))
    mat = macs(a)[rows] / (peak * unit.compute_efficiency_fraction)
    mat = mat + _gpu_dequant_seconds(dequant, a.dtype_w[rows], unit)
    awq = awq_rows(a, target, dequant, rows)
    if awq.any():  # runtime.wo_gemm_kernel = awq_gemm (hwsim/timing/awq_gemm.py)
        mat = np.where(awq, awq_gemm_seconds(f["m"][rows], f["n"][rows], f["k"][rows],
                                             f["count"][rows], target, name,
                                             target.runtime.awq()), mat)
    return mat


def dequant_weights(a: ProgramArrays) -> np.ndarray:
    """Weights each matrix row dequantizes: integer weights (or KV) times float activations
    (w4a16, w8a16; an integer KV cache under fp16 attention), n x k x count per row (each row
    is one weight tile against one M tile, and every M tile's kernel block converts the tile
    it multiplies); 0 elsewhere. PIM rows compute in their banks' own dtype."""
    return once_per_arrays(a, "dequant_weights", _dequant_weights)


def _dequant_weights(a: ProgramArrays) -> np.ndarray:
    is_matrix = any_of(a.opcode, [int(Opcode.MATMUL), int(Opcode.GEMV)])
    int_w = _IS_INT[a.dtype_w]
    float_in = _IS_FLOAT[a.dtype_in]
    f = a.fields
    return np.where(is_matrix & int_w & float_in,
                    f["n"] * f["k"] * f["count"] * kept_fraction(a), 0.0)


def awq_rows(a: ProgramArrays, target, dequant: np.ndarray | None = None,
             rows=slice(None)) -> np.ndarray:
    """Of `rows`, those AutoAWQ's GEMM kernel runs: int4 weights against float activations
    (w4a16) on a target whose runtime.wo_gemm_kernel is awq_gemm; all False otherwise.
    `dequant`: dequant_weights(a)[rows] where the caller has it already."""
    runtime = getattr(target, "runtime", None)
    if runtime is None or runtime.awq() is None:
        return np.zeros(len(a.opcode[rows]), bool)
    if dequant is None:
        dequant = dequant_weights(a)[rows]
    return (dequant > 0) & (a.dtype_w[rows] == INT4)


def _gpu_dequant_seconds(weights: np.ndarray, dtype_w: np.ndarray, unit) -> np.ndarray:
    """Dequantization in a GPU kernel's inner loop: instructions per weight on the CUDA cores
    at one per lane per cycle (the fp32 FMA rate, peak_flops_per_s["fp32"] / 2). It adds to
    the tensor-core time: each MMA waits for the fragment its threads just dequantized, and
    both issue from the same warp schedulers."""
    if not weights.any():
        return np.zeros(len(weights))
    per_weight = np.array([unit.dequant_instructions_per_weight.get(
        LABELS[d], max(unit.dequant_instructions_per_weight.values(), default=0.0))
        for d in dtype_w])
    rate = unit.peak_flops_per_s.get("fp32", min(unit.peak_flops_per_s.values())) / 2
    return weights * per_weight / rate


def _port_bw(target) -> np.ndarray:
    """Bytes per second through each buffer's ports (width x ports x clock), read-only."""
    out = np.array([b.width_bytes * b.ports * target.clocks[b.clock].freq_hz
                    for b in target.buffers.values()], np.float64)
    out.flags.writeable = False
    return out


def _buffer_seconds(a: ProgramArrays, target) -> np.ndarray:
    """Time each row's on-chip operands need through their buffers' ports: the slowest of its
    buffers, each moving the row's bytes in it at width x ports x clock."""
    port_bw = remembered_fact(target, "buffer_port_bytes_per_s", lambda: _port_bw(target))
    if not len(port_bw) or len(a) == 0:
        return np.zeros(len(a))
    n_buffers = len(port_bw)
    kept = a.ext_buf < n_buffers
    cell = a.ext_row[kept] * n_buffers + a.ext_buf[kept]
    need = np.bincount(cell, weights=a.ext_bytes[kept].astype(np.float64),
                       minlength=len(a) * n_buffers).reshape(len(a), n_buffers)
    return (need / port_bw).max(axis=1)
