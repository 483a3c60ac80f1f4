"""A compact program: a short program in which one stretch of every queue repeats.

`base` is a complete, valid Program. In every queue q, rows `template[q]` = [start, end) of
`base.streams[q]` are one unit (the compiler's: one or two decoder layers); the program it
stands for, `flatten()`, has `copies` more copies of that unit right after it, copy j (1, 2,
...) equal to the unit with each instruction's fields shifted by j x its `deltas` (address
fields only: `*_addr`; tokens, shapes and buffers repeat as they are). `metadata` is the flat
program's (its `ops` count the copies); `base.metadata` is the short program's own.

`verify_compact` checks the compact form without flattening it:
  * every instruction of `base` passes isa.verify's per-instruction checks (shapes, units,
    operand bounds);
  * only address fields move; the last copy's operands lie inside their memories too
    (addresses are affine in the copy index and extents repeat, so the unit itself and the
    last copy bound every other copy);
  * each unit gives as many tokens on every channel as it takes, so any number of copies
    keeps the channels balanced;
  * `base` with one copy inserted has balanced tokens and a deadlock-free issue order: the
    unit can follow itself. (The compiler's emission order is a legal schedule by
    construction, every dependency pointing back, copies included; this re-checks it.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from isa.enums import Queue
from isa.errors import IsaError
from isa.instruction import Instruction
from isa.opcodes import OPCODES
from isa.program import Program
from isa.verify import check_token_balance, issue_order, token_channels

_VERIFIED = "_verified_against"


@dataclass(frozen=True, eq=False)
class CompactProgram:
    base: Program
    template: dict            # Queue -> (start, end) rows of base.streams[q]
    copies: int
    deltas: dict              # Queue -> tuple per template row of ((value index, delta), ...)
    metadata: dict = field(default_factory=dict)

    @property
    def target_name(self) -> str:
        return self.base.target_name

    @property
    def target_fingerprint(self) -> bytes:
        return self.base.target_fingerprint

    def unit_rows(self, q: Queue) -> int:
        start, end = self.template.get(q, (0, 0))
        return end - start

    def counts_per_queue(self) -> dict[str, int]:
        return {q.name: len(self.base.streams[q]) + self.copies * self.unit_rows(q)
                for q in Queue}

    def __len__(self) -> int:
        return sum(self.counts_per_queue().values())

    def copy_of(self, q: Queue, j: int) -> list[Instruction]:
        """Copy j of queue q's unit (j = 0: the unit itself)."""
        start, end = self.template.get(q, (0, 0))
        rows = self.base.streams[q][start:end]
        if j == 0:
            return list(rows)
        return [_shifted(instr, shifts, j) for instr, shifts in zip(rows, self.deltas[q])]

    def flatten(self, copies: int | None = None) -> Program:
        """The program this stands for (or, with `copies`, the one with that many copies)."""
        copies = self.copies if copies is None else copies
        streams = {}
        for q in Queue:
            stream = self.base.streams[q]
            end = self.template.get(q, (0, 0))[1]
            extra = [i for j in range(1, copies + 1) for i in self.copy_of(q, j)]
            streams[q] = stream[:end] + tuple(extra) + stream[end:]
        return Program(self.base.target_name, self.base.target_fingerprint, streams,
                       self.metadata if copies == self.copies else self.base.metadata)


def _shifted(instr: Instruction, shifts: tuple, j: int) -> Instruction:
    if not shifts:
        return instr
    values = list(instr.values)
    for index, delta in shifts:
        values[index] += j * delta
    out = object.__new__(Instruction)
    object.__setattr__(out, "opcode", instr.opcode)
    object.__setattr__(out, "_values", tuple(values))
    return out


def verify_compact(program: CompactProgram, resources, verify) -> list:
    """isa.verify for the compact form (see the module docstring); `verify` is isa.verify.
    Returns the issue order of `base` with one copy inserted (its (queue, index) pairs count
    rows of that program)."""
    remembered = program.__dict__.get(_VERIFIED)
    if remembered is not None and remembered[0] == resources:
        return list(remembered[1])
    verify(program.base, resources, tokens=False)
    if program.copies < 0:
        raise IsaError(f"compact program: copies = {program.copies}; must be >= 0")
    for q in Queue:
        start, end = program.template.get(q, (0, 0))
        if not 0 <= start <= end <= len(program.base.streams[q]):
            raise IsaError(f"compact program: {q.name} unit rows [{start}, {end}) lie outside "
                           f"its {len(program.base.streams[q])} rows")
        if len(program.deltas.get(q, ())) != end - start:
            raise IsaError(f"compact program: {q.name} has {len(program.deltas.get(q, ()))} "
                           f"delta rows for a unit of {end - start}")
        _check_deltas(program, q)
    _check_unit_balance(program)
    if program.copies:
        last = Program(program.base.target_name, program.base.target_fingerprint,
                       {q: program.copy_of(q, program.copies) for q in Queue})
        verify(last, resources, tokens=False)  # bounds of the last copy
    probe = program.flatten(min(1, program.copies))
    channels = token_channels(probe)
    check_token_balance(probe, channels)
    order = issue_order(probe, channels)  # the unit follows itself: no deadlock
    object.__setattr__(program, _VERIFIED, (resources, tuple(order)))
    return order


def _check_deltas(program: CompactProgram, q: Queue) -> None:
    start = program.template.get(q, (0, 0))[0]
    for k, shifts in enumerate(program.deltas.get(q, ())):
        instr = program.base.streams[q][start + k]
        names = OPCODES[instr.opcode].format.operand_fields
        for index, _ in shifts:
            if not (0 <= index < len(names)) or not names[index].name.endswith("_addr"):
                raise IsaError(f"compact program: {q.name}[{start + k}] shifts field "
                               f"{index}; only address fields (*_addr) may move")


def _check_unit_balance(program: CompactProgram) -> None:
    net: dict = {}
    for q in Queue:
        for instr in program.copy_of(q, 0):
            wait, release = instr.values[:2]
            for d in release:
                net[(q, d)] = net.get((q, d), 0) + 1
            for s in wait:
                net[(s, q)] = net.get((s, q), 0) - 1
    for (s, d), count in sorted(net.items()):
        if count:
            raise IsaError(f"compact program: the repeated unit is unbalanced on {s.name}->"
                           f"{d.name} ({count:+d} tokens per copy)")
