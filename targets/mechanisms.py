"""Mechanism switches: each mechanism a paper credits is a named field, on in its preset.

`--set mechanisms.NAME=false` switches one off; the paper baselines are settings of these.
"""
from pydantic import Field

from targets.parts import Part, PositiveInt


class FpgaDspMechanisms(Part):
    """FlightLLM (FPGA'24) §3-§5."""

    sparse_dsp_chain: bool
    always_on_chip_decode: bool
    mixed_precision: bool
    length_adaptive_compilation: bool
    prefill_bucket_tokens: PositiveInt
    decode_bucket_tokens: PositiveInt


class NpuPimMechanisms(Part):
    """NeuPIMs (ASPLOS'24) §4-§6. pim_attention=false is the NPU-only baseline; dual_row_buffers
    and sub_batch_interleaving false is the blocked naive NPU+PIM baseline."""

    pim_attention: bool
    dual_row_buffers: bool
    sub_batch_interleaving: bool


class MobileNpuMechanisms(Part):
    """mllm-NPU / llm.npu (ASPLOS'25) §3-§4."""

    chunked_prefill: bool
    chunk_tokens: PositiveInt
    outlier_extraction: bool
    out_of_order_scheduling: bool
    outlier_channel_fraction: float = Field(ge=0, le=1)
