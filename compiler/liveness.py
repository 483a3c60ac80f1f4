"""Liveness-based placement, the one allocator both memories use: on chip (the resident region
of the buffer plan) and off chip (the spilled-activation pool of passes/allocate.py).

Ops are walked in one order (the order code generation emits them); a tensor is live from its
producer to its last reader and its bytes are free again after that reader. Placement is
first-fit by offset among the live tensors: the lowest gap that holds the tensor, or the top
of the live set when the pool has room (an unbounded pool, capacity None, always has room and
grows). `peak_bytes` is the highest byte in use at any point: the pool's size.
"""
from __future__ import annotations


def last_uses(graph, ops) -> dict[str, int]:
    """op name -> index (in `ops`) of its last reader (its own index when nobody reads it)."""
    index = {op.name: i for i, op in enumerate(ops)}
    return {op.name: max((index[s] for s in graph.successors(op.name)),
                         default=index[op.name]) for op in ops}


class FirstFitPool:
    """Offsets for tensors with lifetimes, reusing the bytes of dead ones (see module doc)."""

    def __init__(self, capacity_bytes: int | None, align_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self.align_bytes = align_bytes
        self.live: list[tuple[int, int, int]] = []  # (offset, size, last reader's index)
        self.peak_bytes = 0

    def free_dead(self, index: int) -> None:
        """Release every tensor whose last reader comes before op `index`."""
        self.live = [x for x in self.live if x[2] >= index]

    def place(self, size_bytes: int, last_use: int) -> int | None:
        """The offset of a new tensor of `size_bytes` live until op `last_use`, or None when a
        bounded pool has no gap for it."""
        size = -(-size_bytes // self.align_bytes) * self.align_bytes
        cursor, offset = 0, None
        for start, used, _ in self.live:
            if start - cursor >= size:
                offset = cursor
                break
            cursor = max(cursor, start + used)
        if offset is None:
            if self.capacity_bytes is not None and self.capacity_bytes - cursor < size:
                return None
            offset = cursor
        self.live.append((offset, size, last_use))
        self.live.sort()
        self.peak_bytes = max(self.peak_bytes, offset + size)
        return offset
