"""A compact program: a short program in which stretches of rows repeat, at two levels.

`base` is a complete, valid Program. The program it stands for, `flatten()`, repeats:

  * the unit: in every queue q, rows `template[q]` = [start, end) of `base.streams[q]` (the
    compiler's: one or two decoder layers) are followed by `copies` more copies of the unit,
    copy j (1, 2, ...) equal to the unit with each instruction's fields shifted by j x its
    `deltas` (address fields only: `*_addr`; tokens, shapes and buffers repeat as they are);
  * segments (`Segment`, within a layer: the key loop of an attention kernel): rows
    `rows[q]` of `base.streams[q]`, followed by `copies` more copies, copy i shifted by
    i x the segment's deltas. A segment lies inside the unit in every queue it has rows in
    (then every copy of the unit repeats it, copy i of the segment in unit copy j shifted by
    i x its deltas + j x the unit's) or outside it in every queue; segments do not overlap.

`metadata` is the flat program's (its `ops` count the copies); `base.metadata` is the short
program's own. `blocks(q)` is the flat order of queue q as runs of base rows: `flatten()`
and hwsim.program_arrays_compact both follow it. isa.compact_verify checks the compact form
without flattening it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from isa.enums import Queue
from isa.errors import IsaError
from isa.instruction import Instruction
from isa.program import Program


@dataclass(frozen=True, eq=False)
class Segment:
    rows: dict                # Queue -> (start, end) rows of base.streams[q]
    copies: int
    deltas: dict              # Queue -> tuple per row of ((value index, delta), ...)

    def length(self, q: Queue) -> int:
        start, end = self.rows.get(q, (0, 0))
        return end - start

    def inside(self, unit: dict) -> bool:
        """Whether this segment lies in `unit` (Queue -> (start, end) rows), judged by its
        first queue (isa.compact_verify checks that its other queues agree)."""
        for q, rows in self.rows.items():
            return within(rows, unit.get(q, (0, 0)))
        return False


@dataclass(frozen=True, eq=False)
class CompactProgram:
    base: Program
    template: dict            # Queue -> (start, end) rows of base.streams[q]
    copies: int
    deltas: dict              # Queue -> tuple per template row of ((value index, delta), ...)
    metadata: dict = field(default_factory=dict)
    segments: tuple = ()      # Segment, ...

    @property
    def target_name(self) -> str:
        return self.base.target_name

    @property
    def target_fingerprint(self) -> bytes:
        return self.base.target_fingerprint

    def inside(self, segment: Segment) -> bool:
        """Whether `segment` lies in the unit (repeated with it)."""
        return segment.inside(self.template)

    def unit_rows(self, q: Queue) -> int:
        """Flat rows of one copy of the unit in queue q (its segments' copies included)."""
        return self._rows()[1][q]

    def counts_per_queue(self) -> dict[str, int]:
        return dict(self._rows()[0])

    def _rows(self) -> tuple:
        """({queue name: flat rows}, {queue: flat rows of one unit copy}), worked out once."""
        found = self.__dict__.get("_flat_rows")
        if found is None:
            inner = [self.inside(s) for s in self.segments]
            unit, counts = {}, {}
            for q in Queue:
                start, end = self.template.get(q, (0, 0))
                rows = [s.copies * s.length(q) for s in self.segments]
                unit[q] = end - start + sum(n for n, i in zip(rows, inner) if i)
                counts[q.name] = len(self.base.streams[q]) + self.copies * unit[q] + sum(rows)
            found = (counts, unit)
            object.__setattr__(self, "_flat_rows", found)
        return found

    def __len__(self) -> int:
        return sum(self.counts_per_queue().values())

    def blocks(self, q: Queue, copies: int | None = None, cap: int | None = None) -> list:
        """Queue q's flat stream as runs (first, stop, segment index or -1, n, unit copy j):
        base rows [first, stop) n + 1 times, as segment copies i = 0 .. n (n = 0 outside
        segments). `copies`: of the unit (default its own); `cap`: at most that many copies
        of every segment."""
        copies = self.copies if copies is None else copies
        mine = sorted((s.rows[q], k, s.copies if cap is None else min(cap, s.copies))
                      for k, s in enumerate(self.segments) if s.length(q))

        def runs(lo: int, hi: int) -> list:
            out, pos = [], lo
            for (a, b), k, n in mine:
                if lo <= a and b <= hi:
                    if pos < a:
                        out.append((pos, a, -1, 0))
                    out.append((a, b, k, n))
                    pos = b
            return out + [(pos, hi, -1, 0)] if pos < hi else out

        start, end = self.template.get(q, (0, 0))
        unit = runs(start, end)
        return ([r + (0,) for r in runs(0, start) + unit]
                + [r + (j,) for j in range(1, copies + 1) for r in unit]
                + [r + (0,) for r in runs(end, len(self.base.streams[q]))])

    def flatten(self, copies: int | None = None, cap: int | None = None) -> Program:
        """The program this stands for (or, with `copies` / `cap`, the one with that many
        copies of the unit / at most that many of every segment)."""
        streams = {}
        for q in Queue:
            stream, out = self.base.streams[q], []
            start = self.template.get(q, (0, 0))[0]
            unit = self.deltas.get(q, ())
            for first, stop, k, n, j in self.blocks(q, copies, cap):
                for i in range(n + 1):
                    if i == 0 and j == 0:
                        out.extend(stream[first:stop])
                        continue
                    seg = self.segments[k] if i else None
                    for r in range(first, stop):
                        shifts = [(x, j * d) for x, d in unit[r - start]] if j else []
                        if i:
                            shifts += [(x, i * d) for x, d in
                                       seg.deltas[q][r - seg.rows[q][0]]]
                        out.append(shifted(stream[r], shifts))
            streams[q] = tuple(out)
        full = (copies is None or copies == self.copies) and cap is None
        return Program(self.base.target_name, self.base.target_fingerprint, streams,
                       self.metadata if full else self.base.metadata)


def within(rows: tuple, span: tuple) -> bool:
    """Whether rows [a, b) lie in the non-empty span [start, end) of the same stream."""
    (a, b), (start, end) = rows, span
    return start <= a and b <= end and start < end


def shifted(instr: Instruction, shifts) -> Instruction:
    """`instr` with value index x moved by d for each (x, d) of `shifts` (summed)."""
    if not shifts:
        return instr
    values = list(instr.values)
    for index, delta in shifts:
        values[index] += delta
    return Instruction.unchecked(instr.opcode, tuple(values))


__all__ = ["CompactProgram", "IsaError", "Segment", "shifted"]
