"""A GPU's software stack as named, sourced costs (`runtime:` of a gpu target).

`stack` picks how a step is launched (`--set runtime.stack=cuda_graph`): `none` keeps the plain
roofline-device timing (no per-kernel cost, one bandwidth for every transfer); `eager` (one host
launch per kernel from Python), `cuda_graph` (the step replayed as one graph) and `compiled`
(torch.compile / an engine: fewer, fused kernels inside a graph) each name their costs:

- kernel_host_issue_s: host time to launch one kernel (kernel j starts no earlier than j x it,
  times the host launches one of the grouping's kernels stands for: 840 / 579 for
  `hf-transformers`, 1 for the others; hwsim.timing.serving_stacks);
- kernel_gap_s: GPU time between two dependent kernels (launch latency, the last wave's tail
  and the next kernel's ramp), paid at every kernel boundary because a kernel starts only when
  the previous one has finished (no cross-kernel prefetch);
- kernel_fusion: which compiled ops the stack runs as one kernel (hwsim.timing.serving_stacks).

Achieved bandwidth depends on the bytes a kernel moves (small GEMVs reach less): under any stack
but `none`, a kernel moving B bytes streams them at bandwidth_bytes_per_s x f(B), with f
interpolated linearly in log(B) between the measured points (kernel_bandwidth_bytes,
kernel_bandwidth_fraction) and held constant outside them.

`gemm_datapath` names the units a stack's GEMM kernels run on: `tensor_core` (the default: every
matmul at the unit's peak for its input dtype, hwsim/service.py) or `cuda_core`, a stack whose
prompt GEMMs do not use the tensor cores (llama.cpp's CUDA build of 2023 on Volta: f16 weights
converted to fp32 and multiplied by cuBLAS SGEMM; int8 / int4 weights multiplied by its
mul_mat_q DP4A kernels). `cuda_core_gemm` gives that datapath's measured costs:
- fp32_efficiency_fraction: achieved fraction of peak_flops_per_s["fp32"] of an SGEMM;
- int8_efficiency_fraction: achieved fraction of peak_flops_per_s["int8"] (DP4A) of the
  integer-weight kernel (weights used as stored, activations quantized to int8);
- conversion_bytes_per_weight: bytes a float-weight GEMM moves per weight before it runs (f16
  -> fp32: read 2, write 4), at the preset's achieved bandwidth, once per
  conversion_batch_tokens prompt tokens (the stack's batch: llama.cpp's -b).

`wo_gemm_kernel` names the kernel a stack runs int4 weight-only (w4a16) GEMMs with: `marlin` (the
default: the tensor-core time plus dequant_instructions_per_weight of the unit per weight per
compiler tile, hwsim/service.py) or `awq_gemm`, AutoAWQ's January-2024 AWQ GEMM kernel
(gemm_forward_4bit_cuda_m16n128k32), timed from its structure by hwsim/timing/awq_gemm.py with
the fields of `awq_gemm` (AwqGemmKernel): its CTA tile, split-K slices, the SASS instructions
of its k loop, the dequantization instructions per weight, its registers and shared memory
(which set how many CTAs an SM holds), the SM's issue rate, the bytes each k step moves through
the SM's L1 / shared-memory data path and that path's width, and the L2 hit latency.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from targets.parts import Fraction, NonNegativeFloat, Part, PositiveFloat, PositiveInt

STACK_NAMES = ("eager", "cuda_graph", "compiled")


class GpuStackCosts(Part):
    kernel_host_issue_s: NonNegativeFloat = 0.0
    kernel_gap_s: NonNegativeFloat = 0.0
    kernel_fusion: Literal["none", "vllm-0.1", "inductor", "hf-transformers"] = "none"


class CudaCoreGemm(Part):
    fp32_efficiency_fraction: Fraction
    int8_efficiency_fraction: Fraction
    conversion_bytes_per_weight: NonNegativeFloat = 0.0
    conversion_batch_tokens: PositiveInt = 512


class AwqGemmKernel(Part):
    cta_tile_rows: PositiveInt = 16
    cta_tile_cols: PositiveInt = 128
    k_step_inputs: PositiveInt = 32
    warps_per_cta: PositiveInt = 2
    split_k_slices: PositiveInt = 8
    loop_warp_instructions_per_k_step: PositiveFloat
    cta_warp_instructions: NonNegativeFloat = 0.0
    dequant_instructions_per_weight: PositiveFloat
    registers_per_thread: PositiveInt
    cta_shared_bytes: NonNegativeFloat
    cta_reserved_shared_bytes: NonNegativeFloat = 0.0
    sm_registers: PositiveInt
    warp_register_granule: PositiveInt = 256
    sm_shared_bytes: PositiveFloat
    sm_max_ctas: PositiveInt
    sm_max_warps: PositiveInt
    warp_issue_per_cycle: PositiveFloat
    sm_executed_warp_instructions_per_cycle: PositiveFloat | None = None
    warp_k_step_l1_bytes: NonNegativeFloat = 0.0
    sm_l1_bytes_per_cycle: PositiveFloat = 128.0
    l2_hit_latency_cycles: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _executed_under_the_issue_limit(self):
        ipc = self.sm_executed_warp_instructions_per_cycle
        if ipc is not None and ipc > self.warp_issue_per_cycle:
            raise ValueError(f"sm_executed_warp_instructions_per_cycle = {ipc} is above "
                             f"warp_issue_per_cycle = {self.warp_issue_per_cycle} (the SM "
                             "cannot execute more warp instructions per cycle than it issues)")
        return self

    def executed_warp_instructions_per_cycle(self) -> float:
        """Warp instructions an SM executes per cycle running the kernel: the measured rate
        where the preset gives one, else the schedulers' issue limit."""
        ipc = self.sm_executed_warp_instructions_per_cycle
        return self.warp_issue_per_cycle if ipc is None else ipc


class GpuRuntime(Part):
    stack: Literal["none", "eager", "cuda_graph", "compiled"] = "none"
    gemm_datapath: Literal["tensor_core", "cuda_core"] = "tensor_core"
    cuda_core_gemm: CudaCoreGemm | None = None
    wo_gemm_kernel: Literal["marlin", "awq_gemm"] = "marlin"
    awq_gemm: AwqGemmKernel | None = None
    eager: GpuStackCosts
    cuda_graph: GpuStackCosts
    compiled: GpuStackCosts
    kernel_bandwidth_bytes: list[PositiveFloat] = Field(min_length=1)
    kernel_bandwidth_fraction: list[Fraction] = Field(min_length=1)

    @model_validator(mode="after")
    def _curve_is_a_function(self):
        sizes = self.kernel_bandwidth_bytes
        if len(sizes) != len(self.kernel_bandwidth_fraction):
            raise ValueError(f"kernel_bandwidth_bytes has {len(sizes)} points but "
                             f"kernel_bandwidth_fraction {len(self.kernel_bandwidth_fraction)}")
        if any(b <= a for a, b in zip(sizes, sizes[1:])):
            raise ValueError(f"kernel_bandwidth_bytes must increase, not {sizes}")
        if self.gemm_datapath == "cuda_core" and self.cuda_core_gemm is None:
            raise ValueError("runtime.gemm_datapath = cuda_core needs runtime.cuda_core_gemm "
                             "(its measured efficiencies), which this target does not give")
        if self.wo_gemm_kernel == "awq_gemm" and self.awq_gemm is None:
            raise ValueError("runtime.wo_gemm_kernel = awq_gemm needs runtime.awq_gemm (the "
                             "kernel's structure), which this target does not give")
        return self

    def awq(self) -> AwqGemmKernel | None:
        """The AWQ GEMM kernel's structure when int4 weight-only GEMMs run it; None for Marlin."""
        return self.awq_gemm if self.wo_gemm_kernel == "awq_gemm" else None

    def cuda_core(self) -> CudaCoreGemm | None:
        """The CUDA-core GEMM costs when the stack's GEMMs run there; None for tensor cores."""
        return self.cuda_core_gemm if self.gemm_datapath == "cuda_core" else None

    def active(self) -> GpuStackCosts | None:
        """The selected stack's costs; None for `none`."""
        return None if self.stack == "none" else getattr(self, self.stack)

    def bandwidth_fraction(self, kernel_bytes: float) -> float:
        """Achieved fraction of the peak bandwidth for a kernel moving `kernel_bytes`."""
        xs, ys = self.kernel_bandwidth_bytes, self.kernel_bandwidth_fraction
        if kernel_bytes <= xs[0]:
            return ys[0]
        if kernel_bytes >= xs[-1]:
            return ys[-1]
        for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
            if kernel_bytes <= x1:
                w = math.log(kernel_bytes / x0) / math.log(x1 / x0)
                return y0 + w * (y1 - y0)
        return ys[-1]
