"""Compute units. Each names the ISA queues it serves and the clock domain it runs in.

Per-dtype throughput is given per cycle of the unit's clock (GPUs: per second, as datasheets
state it); `peak_macs_per_s(dtype)` is the derived figure every consumer uses.
"""
from typing import Annotated, Literal, Union

from pydantic import Field

from targets.parts import ComputeQueue, DtypeName, Fraction, Part, PositiveFloat, PositiveInt


class Unit(Part):
    queues: tuple[ComputeQueue, ...] = Field(min_length=1)
    clock: str
    # weights the unit's dequantization datapath turns from int4 / int8 into its float compute
    # dtype per cycle of its clock, in a pipeline stage ahead of the MACs (weight-only schemes
    # w4a16 / w8a16); None: the unit has no such datapath and those schemes are refused on it
    # (GPUs dequantize on their CUDA cores instead: GpuCores.dequant_instructions_per_weight)
    dequant_weights_per_cycle: PositiveFloat | None = None

    def peak_macs_per_cycle(self, dtype: str) -> float:
        raise NotImplementedError

    def peak_macs_per_s(self, dtype: str, clocks: dict) -> float:
        return self.peak_macs_per_cycle(dtype) * clocks[self.clock].freq_hz

    def row_fraction(self, rows: int, queue: str = "MM") -> float:
        """Fraction of the peak a matrix product of `rows` activation rows can reach: 1 for a
        unit whose every MAC takes its own operands (lanes, cores, GPUs)."""
        return 1.0


class SystolicArray(Unit):
    """`count` arrays of rows x cols processing elements."""

    kind: Literal["systolic_array"]
    count: PositiveInt
    rows: PositiveInt
    cols: PositiveInt
    dataflow: Literal["weight_stationary", "output_stationary"]
    macs_per_pe_per_cycle: dict[DtypeName, PositiveFloat] = Field(min_length=1)
    # True: weights double-buffered, so within one instruction the next fold's preload hides
    # under the current fold's stream and fill / drain are paid once (hwsim.unit_models)
    weight_preload_overlap: bool = False

    def peak_macs_per_cycle(self, dtype: str) -> float:
        return self.count * self.rows * self.cols * self.macs_per_pe_per_cycle.get(dtype, 0.0)

    def row_fraction(self, rows: int, queue: str = "MM") -> float:
        """A fold holds rows x cols weights for at least `self.rows` cycles (its preload writes
        one weight row per cycle) and streams `rows` activation rows through them, so at most
        min(rows, self.rows) / self.rows of the peak (output-stationary alike: `rows` outputs
        occupy that share of the PE rows)."""
        return min(rows, self.rows) / self.rows

    def product_cycles(self, m: int, n: int, k: int, groups: int) -> int:
        """Cycles of `groups` (m x k) @ (k x n) products issued as one instruction: the fold
        formula the timing model charges (targets.systolic_forms), fill and drain included."""
        # imported here: the forms use numpy, which light commands (hwsim targets) never load
        from targets.systolic_forms import systolic_cycles, systolic_os_cycles
        if self.dataflow == "output_stationary":
            return int(systolic_os_cycles(m, n, k, groups, self.rows, self.cols, self.count))
        return int(systolic_cycles(m, n, k, groups, self.rows, self.cols, self.count,
                                   self.weight_preload_overlap))


class DspChains(Unit):
    """FlightLLM MPE: per core, chains of cascaded DSP blocks split into fixed-cascade groups."""

    kind: Literal["dsp_chain"]
    cores: PositiveInt
    chains_per_core: PositiveInt
    dsps_per_chain: PositiveInt
    dsps_per_group: PositiveInt
    macs_per_dsp_per_cycle: dict[DtypeName, PositiveFloat] = Field(min_length=1)
    sparse_modes: tuple[Literal["dense", "nm", "block"], ...] = Field(min_length=1)
    sparse_m: PositiveInt
    sparse_n_values: tuple[int, ...] = Field(min_length=1)
    # MV (GEMV) mode: chains fed per core, one token, no INT8 packing (None: as MM mode)
    mv_chains_per_core: PositiveInt | None = None

    def peak_macs_per_cycle(self, dtype: str) -> float:
        dsps = self.cores * self.chains_per_core * self.dsps_per_chain
        return dsps * self.macs_per_dsp_per_cycle.get(dtype, 0.0)

    @property
    def pack(self) -> int:
        """Rows one DSP computes per cycle in MM mode (INT8 packing)."""
        return int(max(self.macs_per_dsp_per_cycle.values()))

    def mode_macs_per_cycle(self, dtype: str, queue: str) -> float:
        """MV mode (GEMV, when mv_chains_per_core is set): mv_chains_per_core chains per core,
        one token, one MAC per DSP per cycle (no packing); MM mode: the peak."""
        if queue != "MV" or self.mv_chains_per_core is None:
            return self.peak_macs_per_cycle(dtype)
        rate = min(self.macs_per_dsp_per_cycle.get(dtype, 0.0), 1.0)
        return self.cores * self.mv_chains_per_core * self.dsps_per_chain * rate

    def row_fraction(self, rows: int, queue: str = "MM") -> float:
        """MV mode runs the rows one after another at its full rate (1). MM mode times whole
        passes of `pack` rows (hwsim.unit_models.dsp_chain_cycles: ceil(m / pack) cycles per
        fold): rows / (pack x ceil(rows / pack)). A unit with an MV mode has no MM mode for a
        single row (0): FlightLLM compiles one token as MV and MM only for more
        (artifact profile/utils/tools.py get_linear_layer_info asserts M == 1 for MV and
        M > 1 for MM)."""
        if self.mv_chains_per_core is not None:
            if queue == "MV":
                return 1.0
            if rows == 1:
                return 0.0
        return rows / (self.pack * -(-rows // self.pack))


class VectorUnit(Unit):
    """`count` SIMD units of `lanes` lanes; elementwise ops per lane per cycle by dtype."""

    kind: Literal["vector"]
    count: PositiveInt
    lanes: PositiveInt
    ops_per_lane_per_cycle: dict[DtypeName, PositiveFloat] = Field(min_length=1)

    def peak_macs_per_cycle(self, dtype: str) -> float:
        return self.count * self.lanes * self.ops_per_lane_per_cycle.get(dtype, 0.0)


class PimBanks(Unit):
    """Multipliers beside every bank of an off-chip memory (HBM-PIM, Newton-style)."""

    kind: Literal["pim"]
    memory: str
    multipliers_per_bank: PositiveInt
    dtype: DtypeName
    # least cycles from a readout's first dot product to its result (the adder tree's fill):
    # with NeuPIMs' PIM_GEMV(k) command (mechanisms.pim_gemv_command) and with Newton's
    # PIM_DOTPRODUCT x k + PIM_RDRESULT; 0: no floor (hwsim.unit_models.pim_channel_cycles)
    gemv_min_dot_cycles: int = Field(default=0, ge=0)
    rdresult_min_dot_cycles: int = Field(default=0, ge=0)

    def peak_macs_per_cycle(self, dtype: str) -> float:
        raise NotImplementedError("PIM throughput depends on the memory; use Target.peak_macs_per_s")


class CpuCluster(Unit):
    """`cores` identical CPU cores; MACs per core per cycle by dtype (SIMD width x pipes)."""

    kind: Literal["cpu"]
    cores: PositiveInt
    macs_per_core_per_cycle: dict[DtypeName, PositiveFloat] = Field(min_length=1)

    def peak_macs_per_cycle(self, dtype: str) -> float:
        return self.cores * self.macs_per_core_per_cycle.get(dtype, 0.0)


class GpuCores(Unit):
    """A GPU as a roofline device: datasheet dense peaks, plus named, sourced efficiencies."""

    kind: Literal["gpu"]
    count: PositiveInt  # streaming multiprocessors
    peak_flops_per_s: dict[DtypeName, PositiveFloat] = Field(min_length=1)
    compute_efficiency_fraction: Fraction = 1.0
    # host time to issue one kernel in eager-mode serving (0: CUDA graphs / no host bound);
    # kernel j of a step starts no earlier than j x this (hwsim.timing.host_issue)
    kernel_launch_s: float = Field(default=0.0, ge=0.0)
    # which compiled ops the serving stack launches as one kernel (hwsim.timing.serving_stacks):
    # "none" = one kernel per op; "vllm-0.1" = vLLM 0.1.x's fused LLaMA kernels
    kernel_fusion: Literal["none", "vllm-0.1"] = "none"
    # attention as one tiled kernel (FlashAttention-2): score tiles stay on chip, softmax is
    # online, key blocks wholly above the causal diagonal are skipped (compiler/passes/
    # fuse_attention.py); one block: attention_block_query_tokens x attention_block_key_tokens
    fused_attention: bool = False
    attention_block_query_tokens: PositiveInt = 128
    attention_block_key_tokens: PositiveInt = 64
    # 32-bit CUDA-core instructions a weight-only GEMM / GEMV kernel spends per weight to turn
    # it into fp16 in its inner loop (unpack, convert, zero point, group scale), issued at one
    # per lane per cycle: the rate of fp32 FMAs, peak_flops_per_s["fp32"] / 2 (hwsim/service.py).
    # Counted in the kernels' source (Marlin, Frantar et al., arXiv 2408.11743):
    # int4: IST-DASLab/marlin @2f6d7c10 marlin/marlin_cuda_kernel.cu, matmul() lines 443-455
    # per int32 of 8 weights: one shift (b_quant >> 8), dequant() twice (lines 131-152: 2 lop3
    # + hsub2 + hfma2 each) and, with groups, scale() twice (lines 155-159: 2 hmul2 each; its
    # __half2half2 broadcast not counted, with it 15 / 8): 13 / 8 = 1.625; int8: vLLM's Marlin
    # (vllm-project/vllm @58942ec9 csrc/quantization/gptq_marlin/dequant.h, dequant<half2,
    # kU8B128, false>) per int32 of 4 weights 2 prmt + 2 hsub2, and scale() 2 hmul2: 6 / 4 =
    # 1.5. gpt-fast's int4 runs tinygemm (aten _weight_int4pack_mm), not Marlin: not counted
    dequant_instructions_per_weight: dict[DtypeName, PositiveFloat] = Field(
        default_factory=lambda: {"int4": 1.625, "int8": 1.5})
    # GEMM kernels as tiled libraries run them (hwsim/timing/gpu_waves.py): the output is cut
    # into CTA tiles of gemm_cta_tile_rows x gemm_cta_tile_cols (fewer rows, rounded up to
    # gemm_cta_row_granule_rows, when M is smaller than a tile), one tile per SM at a time, so
    # a kernel takes ceil(tiles / count) waves of one tile's time at the SM's share of the peak
    gemm_wave_quantization: bool = False
    gemm_cta_tile_rows: PositiveInt = 128
    gemm_cta_tile_cols: PositiveInt = 128
    gemm_cta_row_granule_rows: PositiveInt = 16

    def peak_macs_per_cycle(self, dtype: str) -> float:
        raise NotImplementedError("GPU peaks are per second; use peak_macs_per_s")

    def peak_macs_per_s(self, dtype: str, clocks: dict) -> float:
        return self.peak_flops_per_s.get(dtype, 0.0) / 2

    def gemm_macs_per_s(self, dtype: str) -> float:
        """The peak a GEMM with `dtype` inputs runs at: the dtype's own, or the unit's fastest
        where the card lists none for it (the dtype is run on the widest datapath)."""
        return self.peak_macs_per_s(dtype, {}) or max(self.peak_flops_per_s.values()) / 2


AnyUnit = Annotated[Union[SystolicArray, DspChains, VectorUnit, PimBanks, CpuCluster, GpuCores],
                    Field(discriminator="kind")]
