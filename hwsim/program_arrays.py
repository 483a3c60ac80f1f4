"""A Program flattened into numpy arrays, one row per instruction, queue by queue.

Rows are grouped by queue in ISA queue order (LD, ST, MM, MV, VEC, SYS), each queue in its own
order; `queue_start[q]` .. `queue_start[q + 1]` are queue q's rows. Every field the timing,
energy and roofline models read is a column, so they work on whole arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import isa
from isa import Opcode, Queue

COLUMNS = ("m", "n", "k", "count", "rows", "cols", "row_bytes", "unit", "sparse_mode",
           "sparse_n", "sparse_m", "dram_addr", "dram_stride_bytes", "wgt_buf")


@dataclass
class ProgramArrays:
    opcode: np.ndarray        # int16
    queue: np.ndarray         # int8
    wait: np.ndarray          # uint8 bit masks (bit s = waits on queue s)
    release: np.ndarray       # uint8 bit masks
    fields: dict              # column name -> int64 array (0 where the format lacks it)
    dtype_in: np.ndarray      # isa.Dtype value of the consumed operand (act / in / moved data)
    dtype_w: np.ndarray       # weight dtype (matrix) else = dtype_in
    queue_start: np.ndarray   # int64, len 7
    op_index: np.ndarray      # int32: which metadata op each row belongs to (-1: none)
    op_names: list
    extents: list             # per row: isa.operand_extents(instr)

    def __len__(self) -> int:
        return len(self.opcode)


def flatten(program: isa.Program) -> ProgramArrays:
    rows = [instr for q in Queue for instr in program.streams[q]]
    n = len(rows)
    opcode = np.fromiter((int(i.opcode) for i in rows), np.int16, n)
    queue = np.fromiter((int(i.queue) for i in rows), np.int8, n)
    wait = np.fromiter((sum(1 << s for s in i["wait"]) for i in rows), np.uint8, n)
    release = np.fromiter((sum(1 << d for d in i["release"]) for i in rows), np.uint8, n)
    fields = {c: np.zeros(n, np.int64) for c in COLUMNS}
    dtype_in = np.zeros(n, np.int16)
    dtype_w = np.zeros(n, np.int16)
    for r, instr in enumerate(rows):
        f = instr.fields
        for c in COLUMNS:
            if c in f:
                fields[c][r] = int(f[c])
        d = f.get("dtype_act", f.get("dtype_in", f.get("dtype", 0)))
        dtype_in[r] = int(d)
        dtype_w[r] = int(f.get("dtype_wgt", d))
    counts = [len(program.streams[q]) for q in Queue]
    queue_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    op_index, names = _op_index(program, queue_start, n)
    extents = [isa.operand_extents(i) for i in rows]
    return ProgramArrays(opcode, queue, wait, release, fields, dtype_in, dtype_w, queue_start,
                         op_index, names, extents)


def _op_index(program, queue_start, n):
    """Map rows to the compiler's ops through the program metadata (if present)."""
    index = np.full(n, -1, np.int32)
    names = []
    for k, op in enumerate(program.metadata.get("ops", [])):
        names.append(op["name"])
        for q in Queue:
            first, count = op["first"].get(q.name, 0), op["count"].get(q.name, 0)
            if count:
                start = queue_start[int(q)] + first
                index[start:start + count] = k
    return index, names


def is_opcode(arrays: ProgramArrays, *ops: Opcode) -> np.ndarray:
    return np.isin(arrays.opcode, [int(o) for o in ops])
