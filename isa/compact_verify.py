"""isa.verify for an isa.compact.CompactProgram, without flattening it.

  * every instruction of `base` passes isa.verify's per-instruction checks (shapes, units,
    operand bounds);
  * the unit's and every segment's rows lie inside their streams, segments do not overlap
    and lie wholly inside the unit or wholly outside it, every row has its deltas, and only
    address fields (`*_addr`) move;
  * the extreme copies' operands lie inside their memories and no address goes negative:
    an address is affine in the copy indices (segment copy i, unit copy j) and extents
    repeat, so the corners (i, j) in {0, last} x {0, last} bound every other copy;
  * the unit and each segment give as many tokens on every channel as they take, so any
    number of copies keeps the channels balanced;
  * `base` with one copy of the unit and of every segment inserted has balanced tokens and a
    deadlock-free issue order: each repeated stretch can follow itself. (The compiler's
    emission order is a legal schedule by construction, every dependency pointing back,
    copies included; this re-checks it.)
"""
from __future__ import annotations

from isa.compact import CompactProgram, Segment, shifted, within
from isa.enums import Queue
from isa.errors import IsaError
from isa.opcodes import OPCODES
from isa.program import Program
from isa.verify import checked_order, remembered_order


def verify_compact(program: CompactProgram, resources, verify) -> list:
    """Raise IsaError for the first problem; return the issue order of `base` with one copy
    of the unit and of every segment inserted (its (queue, index) pairs count rows of that
    program). `verify` is isa.verify."""
    remembered = remembered_order(program, resources)
    if remembered is not None:
        return remembered
    verify(program.base, resources, tokens=False)
    if program.copies < 0:
        raise IsaError(f"compact program: copies = {program.copies}; must be >= 0")
    streams = program.base.streams
    for q in Queue:
        _check_rows(streams[q], q, program.template.get(q, (0, 0)), program.deltas, "unit")
    _check_balance(program.base, program.template, "the repeated unit")
    for k, seg in enumerate(program.segments):
        name = f"segment {k}"
        if seg.copies < 0:
            raise IsaError(f"compact program: {name} has copies = {seg.copies}; must be >= 0")
        for q, rows in seg.rows.items():
            _check_rows(streams[q], q, rows, seg.deltas, name)
        _check_place(program, k, seg)
        _check_balance(program.base, seg.rows, name)
    _check_disjoint(program.segments)
    verify(_corners(program), resources, tokens=False)
    probe = program.flatten(min(1, program.copies), cap=1)
    return checked_order(program, resources, probe)


def _check_rows(stream, q: Queue, rows, deltas: dict, name: str) -> None:
    start, end = rows
    if not 0 <= start <= end <= len(stream):
        raise IsaError(f"compact program: {q.name} {name} rows [{start}, {end}) lie outside "
                       f"its {len(stream)} rows")
    shifts = deltas.get(q, ())
    if len(shifts) != end - start:
        raise IsaError(f"compact program: {q.name} {name} has {len(shifts)} delta rows for "
                       f"{end - start} rows")
    for k, moves in enumerate(shifts):
        names = OPCODES[stream[start + k].opcode].format.operand_fields
        for index, _ in moves:
            if not (0 <= index < len(names)) or not names[index].name.endswith("_addr"):
                raise IsaError(f"compact program: {q.name}[{start + k}] ({name}) shifts field "
                               f"{index}; only address fields (*_addr) may move")


def _check_place(program: CompactProgram, k: int, seg: Segment) -> None:
    """Segment k lies wholly inside the unit or wholly outside it."""
    inside = program.inside(seg)
    for q, (a, b) in seg.rows.items():
        start, end = program.template.get(q, (0, 0))
        here = within((a, b), (start, end))
        if here != inside or (not here and a < end and start < b and start < end):
            raise IsaError(f"compact program: segment {k}'s {q.name} rows [{a}, {b}) straddle "
                           f"the unit [{start}, {end}) or differ from its other queues")


def _check_disjoint(segments) -> None:
    """No two segments share a row of any queue."""
    for q in Queue:
        spans = sorted((s.rows[q], k) for k, s in enumerate(segments)
                       if s.rows.get(q, (0, 0))[1] > s.rows.get(q, (0, 0))[0])
        for ((a, b), k), ((c, d), other) in zip(spans, spans[1:]):
            if c < b:
                raise IsaError(f"compact program: segments {k} and {other} overlap in "
                               f"{q.name} ([{a}, {b}) and [{c}, {d}))")


def _check_balance(base: Program, rows: dict, name: str) -> None:
    net: dict = {}
    for q, (start, end) in rows.items():
        for instr in base.streams[q][start:end]:
            wait, release = instr.values[:2]
            for d in release:
                net[(q, d)] = net.get((q, d), 0) + 1
            for s in wait:
                net[(s, q)] = net.get((s, q), 0) - 1
    for (s, d), count in sorted(net.items()):
        if count:
            raise IsaError(f"compact program: {name} is unbalanced on {s.name}->{d.name} "
                           f"({count:+d} tokens per copy)")


def _corners(program: CompactProgram) -> Program:
    """The rows of the extreme copies a bounds check needs (base rows are checked already):
    unit rows in the last unit copy; segment rows in the last segment copy, and, inside the
    unit, in the last copy of both."""
    streams = {q: [] for q in Queue}
    last = program.copies
    for q in Queue:
        start, end = program.template.get(q, (0, 0))
        stream = program.base.streams[q]
        if last:
            streams[q] += [_checked(stream[start + r], [(x, last * d) for x, d in moves], q)
                           for r, moves in enumerate(program.deltas.get(q, ()))]
    for seg in program.segments:
        both = last if program.inside(seg) else 0
        for q, (a, _) in seg.rows.items():
            stream, start = program.base.streams[q], program.template.get(q, (0, 0))[0]
            for r, moves in enumerate(seg.deltas[q]):
                own = [(x, seg.copies * d) for x, d in moves]
                streams[q].append(_checked(stream[a + r], own, q))
                if both:
                    unit = [(x, both * d) for x, d in program.deltas[q][a + r - start]]
                    streams[q].append(_checked(stream[a + r], own + unit, q))
    return Program(program.base.target_name, program.base.target_fingerprint, streams)


def _checked(instr, shifts, q: Queue):
    out = shifted(instr, shifts)
    for index, _ in shifts:
        if out.values[index] < 0:
            name = OPCODES[instr.opcode].format.operand_fields[index].name
            raise IsaError(f"compact program: a copy of {instr.opcode.name} on {q.name} moves "
                           f"{name} to {out.values[index]}; addresses must be >= 0")
    return out
