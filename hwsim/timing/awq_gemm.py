"""AutoAWQ's AWQ GEMM kernel as a structure (`runtime.wo_gemm_kernel: awq_gemm`).

AutoAWQ (January 2024) multiplies w4a16 weights with gemm_forward_4bit_cuda_m16n128k32
(casper-hansen/AutoAWQ_kernels awq_ext/quantization/gemm_cuda_gen.cu). Its shape, from the source:
- a CTA of warps_per_cta warps owns cta_tile_rows x cta_tile_cols outputs (16 x 128) and walks
  K in steps of k_step_inputs (32) input channels; the grid is ceil(M / 16) x OC / 128 x
  split_k_slices, each slice taking every split_k-th k step;
- every k step converts the CTA's whole 32 x 128 weight slice to fp16 in registers and shared
  memory before its MMAs, so a weight is converted once per 16-row M tile, not once per GEMM;
- no double buffering: one __syncthreads, the step's global loads, the conversion, a second
  __syncthreads, then ldmatrix + mma.sync; a warp waits for its loads every step;
- the slices' fp16 partial sums go through memory: the kernel writes split_k x M x OC halves
  and the host's `.sum(0)` (a second kernel) reads them back and writes M x OC.

Time of one matrix row (m activation rows, n x count output columns, k input channels):

    cta_steps   = ceil(m / rows) x ceil(n / cols) x count x ceil(k / k_step)
    per warp    = loop_warp_instructions_per_k_step + dequant x k_step x cols / (warps x 32)
    issue_s     = (cta_steps x warps x per_warp + ctas x warps x cta_warp_instructions)
                  / (executed x SMs x f)
    l1_s        = cta_steps x warps x warp_k_step_l1_bytes / (sm_l1_bytes_per_cycle x SMs x f)
    latency_s   = cta_steps x (l2_hit_latency_cycles + per_warp) / (resident x SMs x f)
    tensor_s    = m n k count / (peak fp16 MAC/s x compute_efficiency_fraction)
    partials_s  = split_k x m x n x count x 2 B / achieved bandwidth  (written by the kernel)
    row_s       = max(issue_s, l1_s, latency_s, tensor_s, partials_s)
                  + (split_k + 1) x m x n x count x 2 B / achieved bandwidth   (the .sum(0))

where resident, the CTAs an SM holds at once, is the least of its CTA, warp, register and
shared-memory limits (`resident_ctas`). A warp issues at most one instruction per cycle, so a k
step lasts at least the L2 round trip of its loads plus its own instructions (the latency
term); the SM executes `executed` warp instructions per cycle from all its warps (the issue
term): sm_executed_warp_instructions_per_cycle where the preset gives it (a100-80gb: 1.9, fitted
on a calibration row, docs/fidelity.md), else the schedulers' limit warp_issue_per_cycle; the
step's shared-memory stores and ldmatrix reads and its global loads' data share the SM's L1 /
shared-memory data path (the l1 term). The tightest of these bounds sets
the kernel's pace (the CTAs of an SM overlap one another's phases). The `.sum(0)` is charged in
the row's own time; the stack's per-kernel costs (runtime.stack) are not charged for it again.
"""
from __future__ import annotations

import math

import numpy as np

FP16_BYTES = 2
WARP_LANES = 32


def resident_ctas(kernel) -> int:
    """CTAs one SM holds at once: the least of the SM's CTA, warp, register and shared-memory
    limits (CUDA occupancy: registers are allocated per warp in warp_register_granule units)."""
    warp_regs = math.ceil(kernel.registers_per_thread * WARP_LANES /
                          kernel.warp_register_granule) * kernel.warp_register_granule
    by_regs = kernel.sm_registers // (warp_regs * kernel.warps_per_cta)
    by_warps = kernel.sm_max_warps // kernel.warps_per_cta
    cta_smem = kernel.cta_shared_bytes + kernel.cta_reserved_shared_bytes
    by_smem = int(kernel.sm_shared_bytes // cta_smem) if cta_smem > 0 else kernel.sm_max_ctas
    return max(1, min(kernel.sm_max_ctas, by_warps, by_regs, by_smem))


def warp_instructions_per_k_step(kernel) -> float:
    """Instructions one warp issues per k step: the loop's own and its share of the
    conversion of the step's k_step x cols weights."""
    weights = kernel.k_step_inputs * kernel.cta_tile_cols
    return (kernel.loop_warp_instructions_per_k_step +
            kernel.dequant_instructions_per_weight * weights /
            (kernel.warps_per_cta * WARP_LANES))


def awq_gemm_seconds(m, n, k, count, target, name: str, kernel) -> np.ndarray:
    """Seconds of each matrix row (arrays m, n, k, count) run by the AWQ GEMM kernel on the
    GPU unit `name` of `target`."""
    m, n, k, count = (np.asarray(x, dtype=np.float64) for x in (m, n, k, count))
    unit = target.units[name]
    freq = target.clocks[unit.clock].freq_hz
    sm_cycles_per_s = unit.count * freq
    m_tiles = np.ceil(m / kernel.cta_tile_rows)
    n_tiles = np.ceil(n / kernel.cta_tile_cols) * count
    cta_steps = m_tiles * n_tiles * np.ceil(k / kernel.k_step_inputs)
    ctas = m_tiles * n_tiles * kernel.split_k_slices
    per_warp = warp_instructions_per_k_step(kernel)
    warps = kernel.warps_per_cta
    issue_s = (cta_steps * warps * per_warp + ctas * warps * kernel.cta_warp_instructions) / (
        kernel.executed_warp_instructions_per_cycle() * sm_cycles_per_s)
    l1_s = cta_steps * warps * kernel.warp_k_step_l1_bytes / (
        kernel.sm_l1_bytes_per_cycle * sm_cycles_per_s)
    latency_s = cta_steps * (kernel.l2_hit_latency_cycles + per_warp) / (
        resident_ctas(kernel) * sm_cycles_per_s)
    tensor_s = m * n * k * count / (unit.gemm_macs_per_s("fp16") *
                                    unit.compute_efficiency_fraction)
    mem = target.memories[target.main_memory]
    bandwidth = mem.bandwidth_bytes_per_s * mem.achieved_bandwidth_fraction
    outputs_bytes = m * n * count * FP16_BYTES
    partials_s = kernel.split_k_slices * outputs_bytes / bandwidth
    reduce_s = (kernel.split_k_slices + 1) * outputs_bytes / bandwidth
    return np.maximum.reduce([issue_s, l1_s, latency_s, tensor_s, partials_s]) + reduce_s

