"""GEMMs of a stack that does not use the tensor cores (`runtime.gemm_datapath: cuda_core`).

llama.cpp's CUDA build of 2023 on Volta is such a stack: for a prompt it converts f16 weights to
fp32 and calls cuBLAS SGEMM, and it multiplies int8 / int4 weights with its mul_mat_q kernels
(DP4A on the CUDA cores, activations quantized to int8). So a matrix row costs:
- integer weights: macs / (peak_flops_per_s["int8"] / 2 x int8_efficiency_fraction) -- the
  weights are used as stored (no dequantization to fp16: the kernel's unpacking and block
  scales are part of its measured efficiency);
- float weights: macs / (peak_flops_per_s["fp32"] / 2 x fp32_efficiency_fraction), plus the
  conversion pass the stack runs before the GEMM: weights x conversion_bytes_per_weight at the
  main memory's achieved bandwidth (a separate kernel, so it adds to the GEMM's time), once per
  conversion_batch_tokens rows of activations (llama.cpp converts once per batch of -b tokens):
  a row of m activation rows pays m / conversion_batch_tokens of a conversion.
The costs are targets/gpu_runtime.py's CudaCoreGemm; the target guarantees both peaks exist.
"""
from __future__ import annotations

import numpy as np


def conversion_seconds(weights: np.ndarray, m: np.ndarray, target, cuda_core) -> np.ndarray:
    """The float-weight conversion pass, this row's share of it: bytes moved at the achieved
    main-memory bandwidth, times m / conversion_batch_tokens."""
    mem = target.memories[target.main_memory]
    bandwidth = mem.bandwidth_bytes_per_s * mem.achieved_bandwidth_fraction
    share = m / cuda_core.conversion_batch_tokens
    return weights * cuda_core.conversion_bytes_per_weight * share / bandwidth


def cuda_core_gemm_seconds(macs: np.ndarray, weights: np.ndarray, m: np.ndarray,
                           int_w: np.ndarray, target, unit, cuda_core) -> np.ndarray:
    """Seconds of each matrix row (macs, weights = n x k x count, m activation rows, whether
    the row's weights are integers)."""
    int8_macs_per_s = unit.peak_flops_per_s["int8"] / 2 * cuda_core.int8_efficiency_fraction
    fp32_macs_per_s = unit.peak_flops_per_s["fp32"] / 2 * cuda_core.fp32_efficiency_fraction
    as_float = macs / fp32_macs_per_s + conversion_seconds(weights, m, target, cuda_core)
    return np.where(int_w, macs / int8_macs_per_s, as_float)
