"""Emitter: instructions in a global program order, with data dependencies turned into tokens.

Each emitted record lists the records it depends on. `finalize` gives every consumer one wait on
each other queue it depends on (the latest producer there) and that producer the matching
release, skipping dependencies an earlier instruction of the same queue already covered. Since
dependencies always point to earlier records, the emission order itself is a legal schedule:
tokens balance and nothing can deadlock (the ISA verifier re-checks both).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from isa import Instruction, Program, Queue


@dataclass(eq=False)
class Rec:
    queue: str
    opcode: str
    fields: dict
    deps: list
    position: int = 0                      # index within its queue
    wait: set = field(default_factory=set)
    release: set = field(default_factory=set)
    note: dict | None = None               # functional annotation (see notes())


class Frontier:
    """The latest record per queue of a set of records. Queues run in order, so depending on
    the frontier is depending on the whole set, at the cost of at most one record per queue."""

    __slots__ = ("latest",)

    def __init__(self) -> None:
        self.latest: dict[str, Rec] = {}

    def append(self, rec: Rec | None) -> None:
        if rec is not None:
            current = self.latest.get(rec.queue)
            if current is None or rec.position > current.position:
                self.latest[rec.queue] = rec

    def extend(self, recs) -> None:
        for rec in recs:
            self.append(rec)

    def __iter__(self):
        return iter(list(self.latest.values()))


class Emitter:
    def __init__(self) -> None:
        self.records: list[Rec] = []
        self.by_queue: dict[str, list[Rec]] = {q.name: [] for q in Queue}

    def emit(self, queue: str, opcode: str, deps=(), note: dict | None = None, **fields) -> Rec:
        rec = Rec(queue, opcode, fields, [d for d in deps if d is not None], note=note)
        rec.position = len(self.by_queue[queue])
        self.by_queue[queue].append(rec)
        self.records.append(rec)
        return rec

    def finalize(self, target_name: str, fingerprint: bytes, metadata: dict) -> Program:
        for queue, recs in self.by_queue.items():
            covered: dict[str, int] = {}
            for rec in recs:
                need: dict[str, int] = {}
                for dep in rec.deps:
                    if dep.queue != queue:
                        need[dep.queue] = max(need.get(dep.queue, -1), dep.position)
                for src, position in sorted(need.items()):
                    if position > covered.get(src, -1):
                        rec.wait.add(src)
                        self.by_queue[src][position].release.add(queue)
                        covered[src] = position
        instrs = [self._instruction(r) for r in self.records]
        return Program.from_instructions(target_name, instrs, fingerprint, metadata)

    @staticmethod
    def _instruction(rec: Rec) -> Instruction:
        """The record's instruction; its fields dict is dropped once built, so records and
        instructions are not both held in full (the peak memory of a large compile)."""
        instr = Instruction(rec.opcode, wait=sorted(rec.wait), release=sorted(rec.release),
                            **rec.fields)
        rec.fields = None
        return instr

    def notes(self) -> dict[str, list]:
        """Per queue, each instruction's annotation (or None): the op it belongs to and the
        operand layout facts the 256-bit word has no field for (row pitches, the output
        tile's position). hwsim.functional reads them; the timing model does not."""
        return {q: [r.note for r in recs] for q, recs in self.by_queue.items() if recs}

    def __len__(self) -> int:
        return len(self.records)
