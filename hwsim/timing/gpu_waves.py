"""Tile and wave quantization of GPU GEMM kernels (units.<gpu>.gemm_wave_quantization).

A tiled GEMM library (cuBLAS, CUTLASS, TensorRT's kernels) cuts the M x N output into CTA
tiles of tile_rows x tile_cols; each tile is one thread block that runs the whole K loop on
one SM, and the SMs take the tiles in waves of `count` (NVIDIA, "Matrix Multiplication
Background User's Guide", DU-09799-001, 2023: section 3.1 tile quantization, 3.2 wave
quantization). A kernel of T tiles therefore lasts ceil(T / SMs) waves of one tile's time,

    t_tile = tile_rows x tile_cols x K / (peak MAC/s / SMs x compute_efficiency_fraction),

where a GEMM with fewer rows than a tile (M < tile_rows) runs tiles of M rows rounded up to
gemm_cta_row_granule_rows (the tensor-core MMA's row granule). The unit's plain model charges
the kernel's MACs at the whole GPU's rate (macs / (peak x efficiency)); the difference, never
negative, is added to the kernel's matrix rows in proportion to their MACs. It is largest
where there are few tiles: a 128-token prompt's 128 x 4096 x 4096 projection is 32 tiles on
the A100's 108 SMs, one wave with 30 % of the SMs busy.

Kernels: the stack's kernels (hwsim.timing.serving_stacks: q/k/v in one GEMM under a fused
stack) when a stack is selected, else one kernel per op. Only matrix instructions (MATMUL, and GEMV: a
one-token projection is a 16-row tile row too, so a batch that crosses the compiler's GEMV /
MATMUL threshold meets no cliff) of ops of kind `matmul` with a two-dimensional weight [K, N]
in the program's weight layout are GEMM kernels here; M is the op's FLOPs / (2 K N).
Attention has its own tiling (fused_attention) and is not counted here.
"""
from __future__ import annotations

import math

import numpy as np

from hwsim.program_arrays import ProgramArrays, base_of, per_base_row
from hwsim.service import (LABELS, _gpu_dequant_seconds, any_of, awq_rows, dequant_weights,
                           macs)
from isa import Opcode
from targets.frozen import remembered_fact


def gemm_shapes(metadata: dict) -> dict:
    """{op index: (M, N, K)} for every op of kind `matmul` with a [K, N] weight."""
    weights = {w["op"]: w.get("shape") for w in metadata.get("weights", [])}
    out = {}
    for index, op in enumerate(metadata.get("ops", [])):
        shape = weights.get(op["name"])
        if op.get("kind") != "matmul" or not shape or len(shape) != 2:
            continue
        k, n = int(shape[0]), int(shape[1])
        m = int(round(op.get("flops", 0) / (2 * k * n)))
        if m >= 1:
            out[index] = (m, n, k)
    return out


def tile_count_and_macs(m: int, n: int, k: int, unit) -> tuple[int, int]:
    """(CTA tiles, MACs of one tile) of an M x N x K GEMM on `unit`'s tile shape."""
    rows = unit.gemm_cta_tile_rows
    if m < rows:
        granule = unit.gemm_cta_row_granule_rows
        rows = min(rows, math.ceil(m / granule) * granule)
    tiles = math.ceil(m / rows) * math.ceil(n / unit.gemm_cta_tile_cols)
    return tiles, rows * unit.gemm_cta_tile_cols * k


def wave_seconds(tiles: int, tile_macs: int, sm_macs_per_s: float, sms: int) -> float:
    """Time of `tiles` CTA tiles of `tile_macs` MACs each, `sms` at a time."""
    return math.ceil(tiles / sms) * tile_macs / sm_macs_per_s


def add_wave_time(metadata: dict, a: ProgramArrays, service: np.ndarray, target, names: list,
                  resource: np.ndarray, kernel: np.ndarray | None) -> np.ndarray:
    """`service` with each GEMM kernel's wave-quantized tensor time added to its matrix rows
    (unchanged where no GPU unit switches gemm_wave_quantization on). `names`, `resource`:
    the units used and each row's index into them (hwsim.service.unit_index)."""
    if not remembered_fact(target, "gemm_wave_quantization", lambda: any(
            getattr(u, "gemm_wave_quantization", False) for u in target.units.values())):
        return service
    shapes = gemm_shapes(metadata)
    if not shapes:
        return service
    # per row of base_of(a), read at a kernel's rows through a.src (no full-length copies)
    base = base_of(a)
    base_macs, base_dense, base_dequant = macs(base), _dense_macs(base), dequant_weights(base)
    out = service.copy()
    for name, rows in _kernels(a, shapes, target, names, resource, kernel):
        unit = target.units[name]
        dtype = LABELS[int(a.dtype_in[rows[0]])]
        rate = unit.gemm_macs_per_s(dtype) * unit.compute_efficiency_fraction
        tiles, tile_macs = 0, 0
        for op in dict.fromkeys(a.op_index[rows].tolist()):  # q, k, v fused share K: the
            count, macs_per_tile = tile_count_and_macs(*shapes[op], unit)  # largest tile
            tiles, tile_macs = tiles + count, max(tile_macs, macs_per_tile)  # sets it
        at = rows if a.base is None else a.src[rows]
        row_macs = base_macs[at]
        plain_s = row_macs.sum() / rate
        kept = row_macs.sum() / max(base_dense[at].sum(), 1)  # N:M sparse weights
        extra_s = wave_seconds(tiles, tile_macs * kept, rate / unit.count, unit.count) - plain_s
        if extra_s > 0 and row_macs.sum() > 0:
            # the unit's own time grows; a row held up by its buffer ports keeps that bound
            unit_s = row_macs / rate + _gpu_dequant_seconds(
                base_dequant[at], a.dtype_w[rows], unit)
            out[rows] = np.maximum(service[rows],
                                   unit_s + extra_s * row_macs / row_macs.sum())
    return out


def _dense_macs(a: ProgramArrays) -> np.ndarray:
    f = a.fields
    return f["m"] * f["n"] * f["k"] * f["count"]


def _kernels(a: ProgramArrays, shapes: dict, target, names: list, resource: np.ndarray,
             kernel: np.ndarray | None):
    """(unit name, rows) of each GEMM kernel in order of its first row: the matrix rows of
    ops in `shapes` on a unit with wave quantization (AWQ GEMM rows keep their own CTA model,
    hwsim/timing/awq_gemm.py), grouped by (unit, kernel, else op); a kernel's rows op by op
    in order of each op's first row, each op's rows in program order."""
    is_mm = per_base_row(a, lambda b: any_of(b.opcode, [int(Opcode.MATMUL), int(Opcode.GEMV)])
                         & ~awq_rows(b, target))
    waved = np.array([bool(getattr(target.units[n], "gemm_wave_quantization", False))
                      for n in names] + [False], bool)  # resource -1 -> the trailing False
    n_ops = int(a.op_index.max(initial=-1)) + 1
    shaped = np.zeros(n_ops + 1, bool)  # op -1 -> the trailing False
    shaped[[op for op in shapes if op < n_ops]] = True
    rows = np.flatnonzero(is_mm & shaped[a.op_index] & waved[resource])
    if not len(rows):
        return []
    op = a.op_index[rows].astype(np.int64)
    group = resource[rows] * (n_ops + 1) + (kernel[rows] if kernel is not None else op)
    # runs of rows of one (group, op) in a row: a few per op, so ordered in Python
    starts = np.flatnonzero(np.concatenate(
        [[True], (group[1:] != group[:-1]) | (op[1:] != op[:-1])]))
    ends = np.append(starts[1:], len(rows))
    group_rank: dict = {}
    pair_rank: dict = {}
    for g, o in zip(group[starts].tolist(), op[starts].tolist()):
        group_rank.setdefault(g, len(group_rank))
        pair_rank.setdefault((g, o), len(pair_rank))
    order = sorted(range(len(starts)), key=lambda r: (
        group_rank[int(group[starts[r]])], pair_rank[(int(group[starts[r]]), int(op[starts[r]]))],
        starts[r]))
    out: dict = {}
    for r in order:
        out.setdefault(int(group[starts[r]]), []).append(rows[starts[r]:ends[r]])
    return [(names[g // (n_ops + 1)], np.concatenate(parts)) for g, parts in out.items()]
