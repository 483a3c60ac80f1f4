"""`DramModel`: one off-chip memory's bank and channel state, and the stats record it keeps."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hwsim.errors import HwsimError
from hwsim.memory.kernel import (S_CLOSED_FORM_CHUNKS, STATS_LEN, dram_params, dram_transfer,
                                 reset_state)


@dataclass(frozen=True)
class DramStats:
    """What an off-chip memory has served. Counts, bytes and seconds; add two with `+`.

    `refresh_stall_s` sums, over the column commands a refresh window delayed, how long each
    waited (channels in parallel each add their own).
    """

    transfers: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    bursts: int = 0
    row_hits: int = 0
    row_misses: int = 0
    row_conflicts: int = 0
    activations: int = 0
    refresh_stalls: int = 0
    refresh_stall_s: float = 0.0

    @classmethod
    def from_array(cls, stats: np.ndarray) -> "DramStats":
        """The kernel's `stats` array (layout `S_*`, same order as the fields) -> a record."""
        return cls(*[float(v) if seconds else int(v)
                     for seconds, v in zip(_SECONDS_FIELD, stats.tolist())])

    def __add__(self, other: "DramStats") -> "DramStats":
        return DramStats(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                            for f in fields(self)})

    def to_json(self) -> dict:
        # the fields as they are (asdict's deep copy of each plain number costs ~10 us a call)
        return {n: getattr(self, n) for n in _FIELD_NAMES}


_FIELD_NAMES = tuple(f.name for f in fields(DramStats))
_SECONDS_FIELD = tuple(n.endswith("_s") for n in _FIELD_NAMES)  # a float; the rest count


class DramModel:
    """The banked timing model of one `targets.memory.OffChipMemory`.

    `transfer` serves one LD/ST and returns its completion time; state carries over between
    calls until `reset`. `stepped`: never use the closed form for long streams (the
    reference). The arrays (`params`, `bank_state`, `chan_state`, `stats_array`) are the
    ones `hwsim.memory.kernel.dram_transfer` takes, in `arrays()` order, for compiled callers.
    """

    def __init__(self, memory, stepped: bool = False) -> None:
        self.memory = memory
        self.params = _params_of(memory, stepped)
        banks = memory.channels * memory.banks_per_channel
        self.bank_state = np.empty((banks, 4))
        self.chan_state = np.empty((memory.channels, 2))
        self.stats_array = np.zeros(STATS_LEN)
        self.reset()

    def reset(self) -> None:
        """All banks precharged, buses idle, stats zero."""
        reset_state(self.bank_state, self.chan_state, self.stats_array)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(params, bank_state, chan_state, stats_array): the first four `dram_transfer` args."""
        return self.params, self.bank_state, self.chan_state, self.stats_array

    @property
    def stats(self) -> DramStats:
        return DramStats.from_array(self.stats_array)

    @property
    def closed_form_chunks(self) -> int:
        """Chunks timed in closed form (hwsim.memory.stream) since the last reset."""
        return int(self.stats_array[S_CLOSED_FORM_CHUNKS])

    def transfer(self, start_s: float, addr: int, rows: int, row_bytes: int, stride: int = 0,
                 write: bool = False) -> float:
        """Serve `rows` rows of `row_bytes` bytes from byte `addr`, rows `stride` bytes apart
        (0: contiguous), as a read (LD) or a write (ST) issued at `start_s` seconds.

        Returns the time (s) the last byte has arrived. Raises HwsimError for a negative address
        or stride, an empty transfer, or one that runs past the memory's capacity.
        """
        if addr < 0 or stride < 0 or rows < 1 or row_bytes < 1:
            raise HwsimError(f"DRAM transfer needs addr >= 0, stride >= 0, rows >= 1 and "
                             f"row_bytes >= 1, not addr={addr}, stride={stride}, rows={rows}, "
                             f"row_bytes={row_bytes}")
        last_byte = addr + (rows - 1) * (stride or row_bytes) + row_bytes
        if last_byte > self.memory.capacity_bytes:
            raise HwsimError(f"DRAM transfer ends at byte {last_byte}, past the memory's "
                             f"capacity_bytes {self.memory.capacity_bytes}")
        return float(dram_transfer(self.params, self.bank_state, self.chan_state, self.stats_array,
                                   float(start_s), int(addr), int(rows), int(row_bytes),
                                   int(stride), bool(write)))


_PARAMS: dict = {}  # (id(memory), stepped) -> (memory, its params): memories are frozen parts
_PARAMS_MAX = 16


def _params_of(memory, stepped: bool) -> np.ndarray:
    """dram_params(memory, stepped), a fresh copy, worked out once per memory object (an
    OffChipMemory is a frozen model: its values never change; the entry holds the object, so
    its id is not reused while kept)."""
    key = (id(memory), bool(stepped))
    kept = _PARAMS.get(key)
    if kept is None or kept[0] is not memory:
        if len(_PARAMS) >= _PARAMS_MAX:
            _PARAMS.pop(next(iter(_PARAMS), None), None)  # another thread may have taken it
        kept = _PARAMS[key] = (memory, dram_params(memory, stepped))
    return kept[1].copy()
