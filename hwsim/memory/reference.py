"""A plain-Python twin of the DRAM kernel, written for reading, used by tests to cross-check it.

Same model, same floating-point operations in the same order, so the two agree exactly; but
objects per bank and per channel instead of flat arrays, and no numba. Far too slow for the
timing engine (Python loops per chunk and row).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class _Bank:
    open_row: int | None = None
    ready_s: float = -math.inf
    activated_s: float = -math.inf
    opened_by: int | None = None  # number of the transfer that activated open_row


@dataclass
class _Channel:
    bus_free_s: float = -math.inf
    last_column_s: float = -math.inf


@dataclass
class _Timing:
    """The DRAM timing table in seconds."""

    trcd: float
    trp: float
    tras: float
    cl: float
    cwl: float
    tccd_s: float
    trefi: float
    trfc: float


@dataclass
class ReferenceDram:
    """State and counters of one OffChipMemory; `transfer` mirrors `DramModel.transfer`."""

    memory: object
    counts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = self.memory
        self.banks = [[_Bank() for _ in range(m.banks_per_channel)] for _ in range(m.channels)]
        self.channels = [_Channel() for _ in range(m.channels)]
        self.burst_s = m.burst_bytes / (m.achieved_bandwidth_bytes_per_s / m.channels)
        self.closed_page = m.row_buffer_policy == "closed"
        self.timing = None
        self.extra_latency_s = m.latency_s
        if m.timing is not None:
            t = m.timing
            self.timing = _Timing(*(c * t.tck_s for c in (
                t.trcd_cycles, t.trp_cycles, t.tras_cycles, t.cl_cycles, t.cwl_cycles,
                t.tccd_s_cycles, t.trefi_cycles, t.trfc_cycles)))
            self.extra_latency_s = max(0.0, m.latency_s - (t.trcd_cycles + t.cl_cycles) * t.tck_s)
        self.counts = {k: 0 for k in ("transfers", "bytes_read", "bytes_written", "bursts",
                                      "row_hits", "row_misses", "row_conflicts", "activations",
                                      "refresh_stalls")}
        self.counts["refresh_stall_s"] = 0.0

    def locate(self, addr: int) -> tuple[int, int, int, int]:
        """Byte address -> (channel, bank, row, column byte)."""
        m = self.memory
        chunk, offset = divmod(addr, m.channel_interleave_bytes)
        mapped = m.mapped_channels  # the channels the design connects (default: all)
        channel = chunk % mapped
        bank = (chunk // mapped) % m.banks_per_channel
        slot = chunk // (mapped * m.banks_per_channel)
        slots_per_row = m.row_bytes // m.channel_interleave_bytes
        row, slot_in_row = divmod(slot, slots_per_row)
        return channel, bank, row, slot_in_row * m.channel_interleave_bytes + offset

    def transfer(self, start_s: float, addr: int, rows: int, row_bytes: int, stride: int = 0,
                 write: bool = False) -> float:
        """Bursts are taken one interleave chunk at a time (one channel, bank and row): the
        chunk's first burst is timed on its own, the rest follow it back to back. A burst
        that two neighbouring rows share is fetched once."""
        burst = self.memory.burst_bytes
        per_chunk = self.memory.channel_interleave_bytes // burst
        end_s = start_s
        fetched = -1  # the last burst this transfer has read
        for i in range(rows):
            first = addr + i * (stride if stride > 0 else row_bytes)
            bursts = range(max(first // burst, fetched + 1), (first + row_bytes - 1) // burst + 1)
            if not bursts:
                continue
            fetched = bursts[-1]
            chunks: dict[int, int] = {}
            for b in bursts:  # consecutive, so each chunk's bursts are adjacent
                chunks[b // per_chunk] = chunks.get(b // per_chunk, 0) + 1
            for chunk, count in chunks.items():
                b = max(bursts.start, chunk * per_chunk)
                channel, bank, row, _ = self.locate(b * burst)
                if self.timing is None:
                    bus = self.channels[channel]
                    bus.bus_free_s = max(start_s, bus.bus_free_s) + count * self.burst_s
                    done = bus.bus_free_s
                else:
                    done = self._timed_burst(start_s, channel, bank, row, write, count)
                end_s = max(end_s, done)
                self.counts["bursts"] += count
        self.counts["transfers"] += 1
        self.counts["bytes_written" if write else "bytes_read"] += rows * row_bytes
        return end_s + self.extra_latency_s

    def _timed_burst(self, start_s, channel_index, bank_index, row, write, count=1) -> float:
        """`count` bursts to one row: the first pays hit, miss or conflict, the others are
        hits spaced max(tCCD_S, burst time), placed in one step unless a refresh window
        starts among them."""
        t, ch = self.timing, self.channels[channel_index]
        bank = self.banks[channel_index][bank_index]
        this_transfer = self.counts["transfers"]
        if self.closed_page and bank.open_row is not None and bank.opened_by != this_transfer:
            # the row's own transfer has finished with it: it was precharged after its last use
            ready = max(start_s, max(bank.ready_s, bank.activated_s + t.tras) + t.trp)
            bank.open_row = None
        else:
            ready = max(start_s, bank.ready_s)
        if bank.open_row == row:
            self.counts["row_hits"] += 1
            column = ready
        else:
            if bank.open_row is None:
                self.counts["row_misses"] += 1
                activate = ready
            else:
                self.counts["row_conflicts"] += 1
                activate = max(ready, bank.activated_s + t.tras) + t.trp
            self.counts["activations"] += 1
            bank.activated_s, bank.opened_by = activate, this_transfer
            column = activate + t.trcd
        cas = t.cwl if write else t.cl
        column = max(column, ch.last_column_s + t.tccd_s, ch.bus_free_s - cas)
        column = self._after_refresh(column)
        hits, spacing = count - 1, max(t.tccd_s, self.burst_s)
        self.counts["row_hits"] += hits
        while hits > 0:
            planned = column + hits * spacing
            if planned < (math.floor(column / t.trefi) + 1.0) * t.trefi:
                column, hits = planned, 0
            else:
                column, hits = self._after_refresh(column + spacing), hits - 1
        ch.bus_free_s = column + cas + self.burst_s
        ch.last_column_s = column
        bank.ready_s, bank.open_row = column + t.tccd_s, row
        return ch.bus_free_s

    def _after_refresh(self, when_s: float) -> float:
        t = self.timing
        n = math.floor(when_s / t.trefi)
        if n >= 1 and when_s - n * t.trefi < t.trfc:
            self.counts["refresh_stalls"] += 1
            self.counts["refresh_stall_s"] += n * t.trefi + t.trfc - when_s
            return n * t.trefi + t.trfc
        return when_s
