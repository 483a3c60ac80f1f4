"""A program: per-queue instruction streams, the target it was built for, and layout metadata."""
from __future__ import annotations

from dataclasses import dataclass, field

from isa.enums import Queue
from isa.errors import IsaError
from isa.instruction import Instruction

FINGERPRINT_BYTES = 32
NO_FINGERPRINT = bytes(FINGERPRINT_BYTES)


@dataclass(frozen=True, eq=True)
class Program:
    """`streams[q]` is queue q's in-order instruction list; every Queue has an entry.

    `metadata` is JSON-compatible: constant tables and the off-chip weight layout.
    """

    target_name: str
    target_fingerprint: bytes = NO_FINGERPRINT
    streams: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.target_fingerprint) != FINGERPRINT_BYTES:
            raise IsaError(f"target fingerprint must be {FINGERPRINT_BYTES} bytes, "
                           f"not {len(self.target_fingerprint)}")
        streams = {q: tuple(self.streams.get(q, ())) for q in Queue}
        for q, instrs in streams.items():
            for index, instr in enumerate(instrs):
                if instr.queue != q:
                    raise IsaError(f"{instr.opcode.name} belongs to queue {instr.queue.name}, "
                                   f"found in {q.name}[{index}]")
        object.__setattr__(self, "streams", streams)

    @classmethod
    def from_instructions(cls, target_name: str, instrs, fingerprint: bytes = NO_FINGERPRINT,
                          metadata: dict | None = None) -> Program:
        """Group a flat instruction list by queue, keeping each queue's order."""
        streams: dict[Queue, list[Instruction]] = {q: [] for q in Queue}
        for instr in instrs:
            streams[instr.queue].append(instr)
        return cls(target_name, fingerprint, streams, dict(metadata or {}))

    def counts_per_queue(self) -> dict[str, int]:
        return {q.name: len(self.streams[q]) for q in Queue}

    def __len__(self) -> int:
        return sum(len(s) for s in self.streams.values())
