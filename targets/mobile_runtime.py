"""Measured runtime figures of a phone SoC running an LLM through its vendor stacks (QNN on the
NPU, NEON kernels on the CPU, OpenCL on the GPU). They are calibration, not structure: each is
derived from published measurements and says which, and docs/fidelity.md lists them."""
from targets.parts import Fraction, NonNegativeFloat, Part, PositiveFloat


class MobileNpuRuntime(Part):
    """What a subgraph costs beyond its unit's closed form (mllm-NPU's block schedule reads it)."""

    npu_graph_execute_overhead_s: NonNegativeFloat  # per NPU subgraph (graph execute) call
    npu_weight_stream_bytes_per_s: PositiveFloat    # weights streamed DRAM -> NPU, achieved
    cpu_gemm_efficiency_fraction: Fraction          # achieved / peak CPU MAC rate in GEMMs
    gpu_fp16_flops_per_s: PositiveFloat             # achieved GPU fp16 rate in GEMMs
