"""A Program flattened into numpy arrays, one row per instruction, queue by queue.

Rows are grouped by queue in ISA queue order (LD, ST, MM, MV, VEC, SYS), each queue in its own
order; `queue_start[q]` .. `queue_start[q + 1]` are queue q's rows. Every field the timing,
energy and roofline models read is a column, so they work on whole arrays.

The operands' on-chip extents are flat too (`ext_*`, one entry per operand of each row, from
isa.operand_extents), so buffer traffic and port time are array sums, not loops over rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np

import isa
from isa import DRAM_BUFFER_ID, OPCODES, Opcode, Queue

COLUMNS = ("m", "n", "k", "count", "rows", "cols", "row_bytes", "unit", "sparse_mode",
           "sparse_n", "sparse_m", "dram_addr", "dram_stride_bytes", "wgt_buf")
_WRITTEN = ("out", "dst")  # operand roles that write their buffer (and LD's "sram")


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
    ext_row: np.ndarray       # int64 per on-chip operand (isa.operand_extents): its row
    ext_buf: np.ndarray       # int64: its buffer id
    ext_bytes: np.ndarray     # int64: its byte extent
    ext_write: np.ndarray     # bool: the row writes it (out / dst, or LD's destination)

    def __len__(self) -> int:
        return len(self.opcode)


def flatten(program) -> ProgramArrays:
    """The arrays of an isa.Program, or of an isa.compact.CompactProgram without building its
    repeated instructions (hwsim.program_arrays_compact)."""
    if not isinstance(program, isa.Program):
        from hwsim.program_arrays_compact import flatten_compact
        return flatten_compact(program)
    return _flatten(program)


def _flatten(program: isa.Program) -> ProgramArrays:
    rows = [instr for q in Queue for instr in program.streams[q]]
    n = len(rows)
    opcode = np.fromiter((i.opcode for i in rows), np.int16, n)
    queue = np.fromiter((i.queue for i in rows), np.int8, n)
    masks: dict = {}  # frozenset of queues -> bit mask (a few distinct sets per program)
    wait = np.fromiter((_mask(masks, i["wait"]) for i in rows), np.uint8, n)
    release = np.fromiter((_mask(masks, i["release"]) for i in rows), np.uint8, n)
    fields = {c: np.zeros(n, np.int64) for c in COLUMNS}
    dtype_in = np.zeros(n, np.int16)
    dtype_w = np.zeros(n, np.int16)
    for op in np.unique(opcode):
        where = np.flatnonzero(opcode == op)
        _fill_columns(Opcode(int(op)), [rows[r] for r in where], where, fields, dtype_in,
                      dtype_w)
    counts = [len(program.streams[q]) for q in Queue]
    queue_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    op_index, names = op_rows(program.metadata, queue_start, n)
    return ProgramArrays(opcode, queue, wait, release, fields, dtype_in, dtype_w, queue_start,
                         op_index, names, *_flat_extents(rows, queue))


def _mask(masks: dict, queues: frozenset) -> int:
    mask = masks.get(queues)
    if mask is None:
        mask = masks[queues] = sum(1 << q for q in queues)
    return mask


def _fill_columns(op: Opcode, instrs: list, where, fields, dtype_in, dtype_w) -> None:
    """The COLUMNS and dtypes of the rows `where`, all of opcode `op`, read in one pass."""
    index = OPCODES[op].format.operand_index
    din = next((c for c in ("dtype_act", "dtype_in", "dtype") if c in index), None)
    names = [c for c in COLUMNS if c in index] + [c for c in (din, "dtype_wgt") if c in index]
    if not names:
        return
    getter = itemgetter(*(index[c] for c in names))
    table = np.array([getter(i.values) for i in instrs], np.int64).reshape(len(instrs), -1)
    column = dict(zip(names, table.T))
    for c in COLUMNS:
        if c in column:
            fields[c][where] = column[c]
    if din is not None:
        dtype_in[where] = column[din]
    dtype_w[where] = column.get("dtype_wgt", dtype_in[where])


def _flat_extents(rows: list, queue: np.ndarray):
    """(row, buffer, bytes, writes) of every on-chip operand (DRAM operands left out), four
    integers per operand in one flat array (no per-operand Python objects kept)."""
    is_load = (queue == Queue.LD).tolist()
    extents: dict = {}  # instruction -> its operand extents (most instructions repeat)

    def of(instr):
        found = extents.get(instr)
        if found is None:
            found = extents[instr] = isa.operand_extents(instr)
        return found
    flat = np.fromiter((v for r, instr in enumerate(rows)
                        for role, buf, _, size in of(instr)
                        if role != "dram" and buf != DRAM_BUFFER_ID
                        for v in (r, buf, size, role in _WRITTEN or (role == "sram" and
                                                                    is_load[r]))),
                       np.int64).reshape(-1, 4)
    return flat[:, 0].copy(), flat[:, 1].copy(), flat[:, 2].copy(), flat[:, 3] != 0


def op_rows(metadata: dict, queue_start, n):
    """Map rows to the compiler's ops through the program metadata (if present)."""
    index = np.full(n, -1, np.int32)
    names = []
    for k, op in enumerate(metadata.get("ops", [])):
        names.append(op["name"])
        for q in Queue:
            first, count = op["first"].get(q.name, 0), op["count"].get(q.name, 0)
            if count:
                start = queue_start[int(q)] + first
                index[start:start + count] = k
    return index, names


def is_opcode(arrays: ProgramArrays, *ops: Opcode) -> np.ndarray:
    return np.isin(arrays.opcode, [int(o) for o in ops])
