"""Byte-addressed memories of the functional model: the off-chip image and one array per
on-chip buffer (buffer id = the target's buffer order, as the ISA numbers them)."""
from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError
from isa import DRAM_BUFFER_ID


class Memories:
    def __init__(self, dram: np.ndarray, buffer_bytes: list[int]) -> None:
        self.dram = np.array(dram, dtype=np.uint8, copy=True)
        self.buffers = [np.zeros(n, dtype=np.uint8) for n in buffer_bytes]

    def space(self, buf: int) -> np.ndarray:
        if buf == DRAM_BUFFER_ID:
            return self.dram
        if buf >= len(self.buffers):
            raise HwsimError(f"functional: buffer id {buf} does not exist on this target")
        return self.buffers[buf]

    def rows(self, buf: int, addr: int, rows: int, row_bytes: int, pitch: int) -> np.ndarray:
        """(rows, row_bytes) uint8 view-copy of rows `pitch` bytes apart."""
        space = self.space(buf)
        end = addr + (rows - 1) * pitch + row_bytes
        if addr < 0 or end > space.size:
            raise HwsimError(f"functional: read [{addr}, {end}) outside buffer {buf} "
                             f"({space.size} B)")
        index = addr + np.arange(rows)[:, None] * pitch + np.arange(row_bytes)[None, :]
        return space[index]

    def write_rows(self, buf: int, addr: int, data: np.ndarray, pitch: int) -> None:
        """Write (rows, row_bytes) uint8 `data` with rows `pitch` bytes apart."""
        space = self.space(buf)
        rows, row_bytes = data.shape
        end = addr + (rows - 1) * pitch + row_bytes
        if addr < 0 or end > space.size:
            raise HwsimError(f"functional: write [{addr}, {end}) outside buffer {buf} "
                             f"({space.size} B)")
        index = addr + np.arange(rows)[:, None] * pitch + np.arange(row_bytes)[None, :]
        space[index] = data


def unpack(raw: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Bytes -> `count` signed integers (int64): int8 as is, int4 low nibble first, int32
    little-endian."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8).ravel()
    if bits == 8:
        return raw[:count].view(np.int8).astype(np.int64)
    if bits == 32:
        return raw[:count * 4].view("<i4").astype(np.int64)
    if bits == 4:
        nib = np.empty(raw.size * 2, dtype=np.int64)
        nib[0::2], nib[1::2] = raw & 0xF, raw >> 4
        nib = nib[:count]
        return np.where(nib >= 8, nib - 16, nib)
    raise HwsimError(f"functional: {bits}-bit integers are not supported")


def pack_int(values: np.ndarray, bits: int) -> np.ndarray:
    """Signed integers -> bytes (int8 or little-endian int32)."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if bits == 8:
        return v.astype(np.int8).view(np.uint8)
    if bits == 32:
        return v.astype("<i4").view(np.uint8)
    raise HwsimError(f"functional: cannot store {bits}-bit integers")
