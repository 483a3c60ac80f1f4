"""Emitter: instructions in a global program order, with data dependencies turned into tokens.

Each emitted record lists the records it depends on. `finalize` gives every consumer one wait on
each other queue it depends on (the latest producer there) and that producer the matching
release, skipping dependencies an earlier instruction of the same queue already covered. Since
dependencies always point to earlier records, the emission order itself is a legal schedule:
tokens balance and nothing can deadlock (the ISA verifier re-checks both).
"""
from __future__ import annotations

from isa import Instruction, Program, Queue


_BIT = {q.name: 1 << q for q in Queue}


class Rec:
    """One emitted instruction: its queue and place there, the records it depends on, and the
    instruction itself, built (and range-checked) at emission with no tokens yet; `finalize`
    sets its tokens (`wait`, `release`: queue names) and replaces `instr` with the result.
    Slots and a built instruction instead of a dict of fields, tokens as bit masks: a long
    prefill holds hundreds of thousands of records at once."""

    __slots__ = ("queue", "instr", "deps", "position", "wait_mask", "release_mask", "note")

    def __init__(self, queue: str, instr: Instruction, deps: list, note: dict | None = None):
        self.queue, self.instr, self.deps = queue, instr, deps
        self.note = note  # functional annotation (see Emitter.notes())
        self.position = 0  # index within its queue
        self.wait_mask = self.release_mask = 0  # bit q: queue q (finalize sets them)

    @property
    def wait(self) -> set:
        return {name for name, bit in _BIT.items() if self.wait_mask & bit}


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
        # rows stood for but not emitted (compiler.codegen.repeat): per queue, and the
        # repeated stretches as (rows per queue of units a, b and c, copies of b skipped)
        self.skipped: dict[str, int] = {q.name: 0 for q in Queue}
        self.repeats: list = []

    def lens(self) -> dict:
        """Rows emitted per queue."""
        return {q: len(recs) for q, recs in self.by_queue.items()}

    def flat_lens(self) -> dict:
        """Rows per queue of the program this stands for (the skipped copies counted)."""
        return {q: len(recs) + self.skipped[q] for q, recs in self.by_queue.items()}

    def skip(self, bounds: list, copies: int) -> None:
        """Stand for `copies` more copies of the unit between bounds[1] and bounds[2] (queue
        lengths at the boundaries of three successive units a, b, c, the lowered ones), placed
        between b and c, without emitting them. The caller has checked that the codegen
        state repeats; compiler.codegen.compact checks the emitted rows of a, b and c."""
        self.repeats.append((bounds, copies))
        for q in self.skipped:
            self.skipped[q] += copies * (bounds[2][q] - bounds[1][q])

    def emit(self, queue: str, opcode: str, deps=(), note: dict | None = None, **fields) -> Rec:
        rec = Rec(queue, Instruction(opcode, **fields), [d for d in deps if d is not None],
                  note)
        rec.position = len(self.by_queue[queue])
        self.by_queue[queue].append(rec)
        self.records.append(rec)
        return rec

    def finalize(self, target_name: str, fingerprint: bytes, metadata: dict) -> Program:
        by_queue = self.by_queue
        for queue, recs in by_queue.items():
            covered: dict[str, int] = {}
            bit = _BIT[queue]
            for rec in recs:
                need: dict[str, int] = {}
                for dep in rec.deps:
                    src = dep.queue
                    if src != queue and dep.position > need.get(src, -1):
                        need[src] = dep.position
                for src, position in need.items():  # each source queue on its own
                    if position > covered.get(src, -1):
                        rec.wait_mask |= _BIT[src]
                        by_queue[src][position].release_mask |= bit
                        covered[src] = position
        shared: dict = {}  # equal instructions are one object (most attention tiles repeat)
        for rec in self.records:  # replaced in place: the two forms are not all held at once
            instr = rec.instr.with_tokens(rec.wait_mask, rec.release_mask)
            rec.instr = shared.setdefault((instr.opcode, instr.values), instr)
        instrs = [rec.instr for rec in self.records]
        return Program.from_instructions(target_name, instrs, fingerprint, metadata)

    def notes(self) -> dict[str, list]:
        """Per queue, each instruction's annotation (or None): the op it belongs to and the
        operand layout facts the 256-bit word has no field for (row pitches, the output
        tile's position). hwsim.functional reads them; the timing model does not."""
        return {q: [r.note for r in recs] for q, recs in self.by_queue.items() if recs}

    def __len__(self) -> int:
        return len(self.records)

