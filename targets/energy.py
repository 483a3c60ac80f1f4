"""Energy tables: joules = action counts x per-action energy (Accelergy-style), plus static power.

The simulator only counts actions; every coefficient here carries its own `source`.
"""
from pydantic import Field

from targets.parts import DtypeName, Group, NonNegativeFloat, Part, PositiveFloat


class ComputeEnergy(Part):
    mac_pj: dict[DtypeName, PositiveFloat] = Field(min_length=1)        # one multiply-accumulate
    vector_op_pj: dict[DtypeName, PositiveFloat] = Field(min_length=1)  # one elementwise op


class BufferEnergy(Part):
    read_pj_per_byte: PositiveFloat
    write_pj_per_byte: PositiveFloat


class MemoryEnergy(Part):
    read_pj_per_byte: PositiveFloat
    write_pj_per_byte: PositiveFloat
    activate_pj: NonNegativeFloat = 0.0  # one row activation (0 = folded into per-byte figures)


class PimEnergy(Part):
    """Per-command energy of PIM banks (NeuPIMs / Newton command set)."""

    activate_pj: PositiveFloat
    read_pj: PositiveFloat
    write_pj: PositiveFloat
    dotproduct_pj: PositiveFloat
    gwrite_pj: PositiveFloat


class StaticPower(Part):
    power_w: NonNegativeFloat


class Energy(Group):
    """`buffers` and `memories` are keyed by the names of the target's buffers and memories."""

    compute: dict[str, ComputeEnergy] = Field(min_length=1)  # keyed by unit name
    buffers: dict[str, BufferEnergy]
    memories: dict[str, MemoryEnergy]
    pim: PimEnergy | None = None
    static: StaticPower
