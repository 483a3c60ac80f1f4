"""Mechanism switches: each mechanism a paper credits is a named field, on in its preset.

`--set mechanisms.NAME=false` switches one off; the paper baselines are settings of these.
"""
from typing import Literal

from pydantic import Field

from targets.parts import Part, PositiveInt


class FpgaDspMechanisms(Part):
    """FlightLLM (FPGA'24) §3-§5. Under `--quant mixed`, mixed_precision gives every linear
    layer its own weight width (element-weighted mean `mean_weight_bits`); switched off, the
    same scheme streams uniform INT8 weights (compiler/mixed_precision.py)."""

    sparse_dsp_chain: bool
    always_on_chip_decode: bool
    mixed_precision: bool
    mean_weight_bits: float = Field(ge=2, le=8)
    length_adaptive_compilation: bool
    prefill_bucket_tokens: PositiveInt
    decode_bucket_tokens: PositiveInt


class NpuPimMechanisms(Part):
    """NeuPIMs (ASPLOS'24) §4-§6. pim_attention=false is the NPU-only baseline; dual_row_buffers
    and sub_batch_interleaving false is the blocked naive NPU+PIM baseline."""

    pim_attention: bool
    dual_row_buffers: bool
    sub_batch_interleaving: bool
    sub_batch_min_batch: PositiveInt = 2  # smallest decode batch that is split in two
    # each request's KV cache in one PIM channel, its GEMVs on that channel's banks (False:
    # every GEMV over all banks); placement least-loaded (True) or round robin (False)
    pim_channel_placement: bool = False
    channel_load_balancing: bool = False
    # NeuPIMs' PIM_GEMV(k): k dot products and the readout in one command, so a row's banks
    # may close tRTP after its last readout issues (False: Newton's k PIM_DOTPRODUCTs, then a
    # PIM_RDRESULT, the row closing tRTP after that)
    pim_gemv_command: bool = False


class MobileNpuMechanisms(Part):
    """mllm-NPU / llm.npu (ASPLOS'25) §3-§4. prefill_engine picks the processor that runs the
    linear layers: npu (mllm-NPU; with the three mechanisms off, the naive NPU baseline), cpu
    (llama.cpp / MNN) or gpu (TFLite / MLC-LLM): the paper's baselines as settings of one SoC."""

    chunked_prefill: bool
    chunk_tokens: PositiveInt
    outlier_extraction: bool
    out_of_order_scheduling: bool
    outlier_channel_fraction: float = Field(ge=0, le=1)
    # share of decoder layers that keep outlier (shadow) handling; the rest are pruned
    outlier_layer_fraction: float = Field(default=1.0, ge=0, le=1)
    prefill_engine: Literal["npu", "cpu", "gpu"] = "npu"
