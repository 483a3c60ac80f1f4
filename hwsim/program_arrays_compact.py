"""ProgramArrays of an isa.compact.CompactProgram, built by tiling, not by instructions.

The short program's arrays (hwsim.program_arrays.flatten of `base`) are indexed by `src`, the
short program's row behind every row of the flat program, queue by queue: the rows up to the
end of the repeated unit, then `copies` times the unit's rows, then the rest. A copy j adds j x
the row's delta to each address column; every other column (opcode, tokens, shapes, buffers,
dtypes, operand extents) repeats as it is, which isa.verify's compact rules guarantee. The
result equals flatten(program.flatten()) array for array.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import COLUMNS, GatheredColumns, ProgramArrays, _flatten, op_rows
from isa import OPCODES, Queue


def flatten_compact(program) -> ProgramArrays:
    base = _flatten(program.base)
    src, copy = _row_map(program, base.queue_start)
    fields = GatheredColumns(base.fields, src)  # each column built when first read
    for c, delta in _column_deltas(program, base).items():
        moved = delta[src] != 0
        fields[c][moved] += copy[moved] * delta[src][moved]
    counts = [len(program.base.streams[q]) + program.copies * program.unit_rows(q)
              for q in Queue]
    queue_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    op_index, names = op_rows(program.metadata, queue_start, len(src))
    out = ProgramArrays(base.opcode[src], base.queue[src], base.wait[src], base.release[src],
                        fields, base.dtype_in[src], base.dtype_w[src], queue_start,
                        op_index, names, None, None, None, None)  # extents: gathered when read
    out.src, out.base = src, base  # hwsim.program_arrays.per_base_row
    return out


def _row_map(program, base_start):
    """(src, copy): per flat row, the base row it repeats and which copy it is (0: none)."""
    src, copy = [], []
    for q in Queue:
        first, end = int(base_start[int(q)]), int(base_start[int(q) + 1])
        start, stop = program.template.get(q, (0, 0))
        unit = np.arange(first + start, first + stop, dtype=np.int64)
        src += [np.arange(first, first + stop, dtype=np.int64),
                np.tile(unit, program.copies), np.arange(first + stop, end, dtype=np.int64)]
        copy += [np.zeros(stop, np.int64),
                 np.repeat(np.arange(1, program.copies + 1, dtype=np.int64), len(unit)),
                 np.zeros(end - first - stop, np.int64)]
    return np.concatenate(src), np.concatenate(copy)


def _column_deltas(program, base) -> dict:
    """Column name -> per base row delta, for the address columns that move (dram_addr)."""
    out: dict = {}
    for q in Queue:
        start = program.template.get(q, (0, 0))[0]
        row0 = int(base.queue_start[int(q)]) + start
        for k, shifts in enumerate(program.deltas.get(q, ())):
            if not shifts:
                continue
            instr = program.base.streams[q][start + k]
            names = OPCODES[instr.opcode].format.operand_fields
            for index, delta in shifts:
                name = names[index].name
                if name in COLUMNS:
                    if name not in out:
                        out[name] = np.zeros(len(base.opcode), np.int64)
                    out[name][row0 + k] = delta
    return out
