"""ProgramArrays of an isa.compact.CompactProgram, built by tiling, not by instructions.

The short program's arrays (hwsim.program_arrays.flatten of `base`) are indexed by `src`, the
short program's row behind every row of the flat program, queue by queue in the flat order
`CompactProgram.blocks` gives (the rows up to the end of the repeated unit with each segment
followed by its copies, then `copies` times the unit so expanded, then the rest). A row in
segment copy i of unit copy j adds i x the segment row's delta + j x the unit row's delta to
each address column; every other column (opcode, tokens, shapes, buffers, dtypes, operand
extents) repeats as it is, which isa.verify's compact rules guarantee. The result equals
flatten(program.flatten()) array for array.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import COLUMNS, GatheredColumns, ProgramArrays, _flatten, op_rows
from isa import OPCODES, Queue


def flatten_compact(program) -> ProgramArrays:
    return flatten_skipping(program)[0]


def flatten_skipping(program, skip: tuple | None = None, metadata: dict | None = None,
                     base: ProgramArrays | None = None) -> tuple:
    """(arrays, per row its unit copy, {column: per base row unit delta}). `skip` = (lo, hi):
    leave out unit copies lo..hi (hwsim.program_arrays_window; the rows kept are the flat
    program's, addresses included); `metadata`: then the kept rows'; `base`:
    _flatten(program.base) where the caller has it."""
    base = _flatten(program.base) if base is None else base
    src, adds = _row_map(program, base.queue_start, skip)
    fields = GatheredColumns(base.fields, src)  # each column built when first read
    for copy, deltas in adds:
        for c, delta in deltas.items():
            moved = np.flatnonzero((copy != 0) & (delta[src] != 0))
            fields[c][moved] += copy[moved] * delta[src[moved]]
    flat_rows = program.counts_per_queue()
    counts = [flat_rows[q.name] - (0 if skip is None else (skip[1] - skip[0] + 1)
                                   * program.unit_rows(q)) for q in Queue]
    queue_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    op_index, names = op_rows(program.metadata if metadata is None else metadata, queue_start,
                              len(src))
    out = ProgramArrays(base.opcode[src], base.queue[src], base.wait[src], base.release[src],
                        fields, base.dtype_in[src], base.dtype_w[src], queue_start,
                        op_index, names, None, None, None, None)  # extents: gathered when read
    out.src, out.base = src, base  # hwsim.program_arrays.per_base_row
    return out, adds[0][0], adds[0][1]


def _row_map(program, base_start, skip=None):
    """(src, adds): per flat row, the base row it repeats; and the address additions as
    [(per flat row copy index, {column: per base row delta})]: the unit copy j with the
    unit's deltas, the segment copy i with the segments' deltas."""
    src, unit_copy, seg_copy = [], [], []
    for q in Queue:
        runs = np.array(program.blocks(q), dtype=np.int64).reshape(-1, 5)
        if skip is not None:
            runs = runs[(runs[:, 4] < skip[0]) | (runs[:, 4] > skip[1])]
        times = runs[:, 3] + 1  # each run: its rows n + 1 times, segment copies 0 .. n
        run_first = np.repeat(np.cumsum(times) - times, times)
        block = np.repeat(runs, times, axis=0)
        copy_i = np.arange(len(block), dtype=np.int64) - run_first
        lengths = block[:, 1] - block[:, 0]
        ends = np.cumsum(lengths)
        offset = block[:, 0] + int(base_start[int(q)]) - (ends - lengths)
        src.append(np.repeat(offset, lengths) + np.arange(int(ends[-1]) if len(ends) else 0,
                                                          dtype=np.int64))
        seg_copy.append(np.repeat(copy_i, lengths))
        unit_copy.append(np.repeat(block[:, 4], lengths))
    n = int(base_start[-1])
    unit = _column_deltas([(program.template, program.deltas)], program.base, base_start, n)
    segs = _column_deltas([(s.rows, s.deltas) for s in program.segments], program.base,
                          base_start, n)
    return np.concatenate(src), [(np.concatenate(unit_copy), unit),
                                 (np.concatenate(seg_copy), segs)]


def _column_deltas(stretches, base, base_start, n: int) -> dict:
    """Column name -> per base row delta, for the address columns that move (dram_addr), of
    the stretches [(rows per queue, deltas per queue), ...]."""
    out: dict = {}
    for rows, deltas in stretches:
        for q, shifts_per_row in deltas.items():
            start = rows[q][0]
            row0 = int(base_start[int(q)]) + start
            for k, shifts in enumerate(shifts_per_row):
                if not shifts:
                    continue
                names = OPCODES[base.streams[q][start + k].opcode].format.operand_fields
                for index, delta in shifts:
                    name = names[index].name
                    if name in COLUMNS:
                        if name not in out:
                            out[name] = np.zeros(n, np.int64)
                        out[name][row0 + k] = delta
    return out
