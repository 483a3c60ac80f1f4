"""On-chip buffers and off-chip memories (with the DRAM timing the bank model needs)."""
from typing import Literal

from pydantic import Field, model_validator

from targets.parts import Fraction, Part, PositiveFloat, PositiveInt
from targets.ranges import MAX_DRAM_BANKS


BufferRole = Literal["weight", "activation", "output", "kv", "meta", "scale"]


class Buffer(Part):
    """An on-chip SRAM buffer. Its ISA buffer id is its position in the target's `buffers`;
    `holds` says which operands the compiler may tile into it (a shared buffer lists several)."""

    holds: tuple[BufferRole, ...] = Field(min_length=1)
    size_bytes: PositiveInt
    ports: PositiveInt
    banks: PositiveInt
    width_bytes: PositiveInt  # bytes one port moves per cycle
    clock: str


class DramTiming(Part):
    """JEDEC-style timing in memory-clock cycles (tck_s is that clock's period)."""

    tck_s: PositiveFloat
    cl_cycles: PositiveInt
    cwl_cycles: PositiveInt
    trcd_cycles: PositiveInt
    trp_cycles: PositiveInt
    tras_cycles: PositiveInt
    trfc_cycles: PositiveInt
    trefi_cycles: PositiveInt
    tccd_s_cycles: PositiveInt
    tccd_l_cycles: PositiveInt
    tfaw_cycles: PositiveInt
    burst_length: PositiveInt
    # read to precharge (NewtonSim read_to_precharge = AL + tRTP): a PIM row closes this long
    # after the tile's last readout command issues (hwsim.unit_models.pim_channel_cycles);
    # 0: not modelled
    trtp_cycles: int = Field(default=0, ge=0)

    @property
    def trc_cycles(self) -> int:
        return self.tras_cycles + self.trp_cycles


class OffChipMemory(Part):
    """A DRAM device set. `bandwidth_bytes_per_s` is the datasheet peak over all channels.
    `achieved_bandwidth_fraction` (default 1.0) is the share of that peak a device's memory
    system sustains on a streaming read, measured by a microbenchmark and cited in its source:
    the bus model moves bursts at that rate. Presets with a DRAM timing table leave it at 1.0
    (row misses and refresh are modelled instead), unless a design publishes its own port
    efficiency (then the fraction is that figure over what the bank model already sustains)."""

    type: Literal["HBM2", "HBM2e", "HBM3", "LPDDR5", "LPDDR5X", "DDR4", "GDDR6"]
    capacity_bytes: PositiveInt
    bandwidth_bytes_per_s: PositiveFloat
    channels: PositiveInt
    banks_per_channel: PositiveInt
    row_bytes: PositiveInt
    burst_bytes: PositiveInt
    channel_interleave_bytes: PositiveInt  # consecutive chunks this size go to consecutive channels
    latency_s: PositiveFloat
    row_buffer_policy: Literal["open", "closed"]
    timing: DramTiming | None = None
    achieved_bandwidth_fraction: Fraction = 1.0
    # channels the accelerator's ports stream from (None: all): the address map interleaves
    # over the first `connected_channels` only, each at its own channel's bandwidth (FlightLLM
    # partitions weights over 8 pseudo-channels per core, 24 of the U280's 32)
    connected_channels: PositiveInt | None = None
    # ranks sharing a channel's banks (DRAMsim3 / NewtonSim: channel_size / MB per rank); PIM
    # grouped activations of one rank are tFAW apart, ranks in parallel (hwsim.unit_models)
    ranks_per_channel: PositiveInt = 1
    # share of one channel's bandwidth a load gets when it crosses the HBM switch from another
    # channel (FlightLLM: activations read into a GEMV's vector buffer; hwsim.timing.cross_channel);
    # None: no such transfers are modelled
    cross_channel_efficiency_fraction: Fraction | None = None

    @property
    def channel_bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s / self.channels

    @property
    def achieved_bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s * self.achieved_bandwidth_fraction

    @property
    def mapped_channels(self) -> int:
        """Channels the address map spreads a stream over."""
        return self.connected_channels or self.channels

    @model_validator(mode="after")
    def _burst_and_interleave_fit_row(self):
        banks = self.channels * self.ranks_per_channel * self.banks_per_channel
        if banks > MAX_DRAM_BANKS:
            raise ValueError(f"channels x ranks_per_channel x banks_per_channel = {banks} "
                             f"exceeds the limit of {MAX_DRAM_BANKS} banks")
        if self.mapped_channels > self.channels:
            raise ValueError(f"connected_channels {self.connected_channels} exceeds channels "
                             f"{self.channels}")
        if self.burst_bytes > self.row_bytes:
            raise ValueError(f"burst_bytes {self.burst_bytes} exceeds row_bytes {self.row_bytes}")
        interleave = self.channel_interleave_bytes
        if interleave % self.burst_bytes or self.row_bytes % interleave:
            raise ValueError(f"channel_interleave_bytes {interleave} must be a multiple of "
                             f"burst_bytes {self.burst_bytes} and divide row_bytes {self.row_bytes}")
        return self
