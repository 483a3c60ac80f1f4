"""Ping-pong slots and on-chip hazards: who must finish before a region is overwritten."""
from __future__ import annotations

from compiler.codegen.emitter import Frontier


class Slots:
    """A role's slots, used in turn (two ping-pong halves; more for channel-local PIM outputs,
    compiler.buffer_plan); each remembers the records that last read it."""

    def __init__(self, regions) -> None:
        self.regions = regions
        self.readers = [Frontier() for _ in regions]
        self.contents: list = [None] * len(regions)  # (key, load record) a slot still holds
        self.turn = 0

    def acquire(self):
        """-> (index, region, records that must finish before the slot is rewritten)."""
        index = self.turn
        self.turn = (index + 1) % len(self.regions)
        previous, self.readers[index] = list(self.readers[index]), Frontier()
        self.contents[index] = None
        return index, self.regions[index], previous

    def holding(self, key):
        """(index, load record) of a slot that still holds what `key` names, else None."""
        for index, held in enumerate(self.contents):
            if held is not None and held[0] == key:
                return index, held[1]
        return None

    def remember(self, index: int, key, record) -> None:
        self.contents[index] = (key, record)

    def read_by(self, index: int, *records) -> None:
        self.readers[index].extend(records)


class ResidentHazards:
    """Readers of each resident tensor, so a later tensor placed over it waits for them."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int, int, list]] = []  # (buffer, start, end, readers)

    def place(self, buffer_id: int, start: int, size: int) -> list:
        """Register a new tensor at [start, start+size); return the readers it must wait for."""
        end = start + size
        deps, keep = [], []
        for span in self.spans:
            if span[0] == buffer_id and span[1] < end and start < span[2]:
                deps.extend(span[3])
            else:
                keep.append(span)
        readers = Frontier()
        keep.append((buffer_id, start, end, readers))
        self.spans = keep
        return deps, readers
