"""Base class and field types shared by every part of a target description.

Every part is frozen, keyword-only and rejects unknown keys; every part carries a `source`
(datasheet or paper section), and every number lies in the plausibility range that
targets/ranges.py gives its field. Numeric field names end in their unit (see UNIT_SUFFIXES) or are
dimensionless counts listed in COUNT_FIELDS; a test walks the schema to hold that.
"""
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from isa import DTYPE_NAMES
from targets.ranges import check_part

UNIT_SUFFIXES = ("_hz", "_s", "_cycles", "_bytes", "_bits", "_j", "_pj", "_w", "_usd", "_mm2",
                 "_bytes_per_s", "_flops_per_s", "_per_cycle", "_fraction", "_pj_per_byte",
                 "_v", "_ma", "_tokens", "_per_weight")
COUNT_FIELDS = frozenset({
    "count", "rows", "cols", "lanes", "cores", "chains_per_core", "mv_chains_per_core",
    "connected_channels", "dsps_per_chain",
    "dsps_per_group", "channels", "banks_per_channel", "ranks_per_channel", "bank_groups", "ports", "banks",
    "multipliers_per_bank", "burst_length", "sparse_m", "sparse_n_values",
    "sub_batch_min_batch", "gemm_cta_tile_rows", "gemm_cta_tile_cols", "gemm_cta_row_granule_rows",
    # runtime.awq_gemm (targets/gpu_runtime.py): counts of rows, warps, registers, instructions
    "cta_tile_rows", "cta_tile_cols", "k_step_inputs", "warps_per_cta", "split_k_slices",
    "loop_warp_instructions_per_k_step", "cta_warp_instructions", "registers_per_thread",
    "sm_registers", "warp_register_granule", "sm_max_ctas", "sm_max_warps",
})

DtypeName = Literal[DTYPE_NAMES]
ComputeQueue = Literal["MM", "MV", "VEC"]

PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Source = Annotated[str, Field(min_length=3)]


class Group(BaseModel):
    """A grouping of parts (no numbers of its own, so no source of its own)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Part(BaseModel):
    """A piece of hardware description: frozen, no unknown keys, always sourced."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    source: Source

    @model_validator(mode="after")
    def _plausible(self):
        """Every number finite and within its physical range (targets/ranges.py)."""
        check_part(self)
        return self


class Clock(Part):
    freq_hz: PositiveFloat


class Cost(Part):
    """Purchase price of one device, for cost-efficiency comparisons."""

    price_usd: PositiveFloat
