"""A Program flattened into numpy arrays, one row per instruction, queue by queue.

Rows are grouped by queue in ISA queue order (LD, ST, MM, MV, VEC, SYS), each queue in its own
order; `queue_start[q]` .. `queue_start[q + 1]` are queue q's rows. Every field the timing,
energy and roofline models read is a column, so they work on whole arrays.

The operands' on-chip extents are flat too (`ext_*`, one entry per operand of each row, from
isa.operand_extents), so buffer traffic and port time are array sums, not loops over rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
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
    counts = [len(program.streams[q]) for q in Queue]
    opcode = np.fromiter((i.opcode for i in rows), np.int16, n)
    queue = np.repeat(np.array([int(q) for q in Queue], np.int8), counts)  # rows queue by queue
    masks: dict = {}  # frozenset of queues -> bit mask (a few distinct sets per program)
    tokens = [i.values[:2] for i in rows]  # wait, release: the first two fields of every format
    wait = np.fromiter((_mask(masks, w) for w, _ in tokens), np.uint8, n)
    release = np.fromiter((_mask(masks, r) for _, r in tokens), np.uint8, n)
    del tokens
    if n <= SMALL_ROWS:
        fields, dtype_in, dtype_w = _small_columns(rows)
    else:
        fields = {c: np.zeros(n, np.int64) for c in COLUMNS}
        dtype_in = np.zeros(n, np.int16)
        dtype_w = np.zeros(n, np.int16)
        for op in np.unique(opcode):
            where = np.flatnonzero(opcode == op)
            _fill_columns(Opcode(int(op)), [rows[r] for r in where], where, fields, dtype_in,
                          dtype_w)
    queue_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    op_index, names = op_rows(program.metadata, queue_start, n)
    return ProgramArrays(opcode, queue, wait, release, fields, dtype_in, dtype_w, queue_start,
                         op_index, names, *_flat_extents(rows, queue))


def _mask(masks: dict, queues: frozenset) -> int:
    mask = masks.get(queues)
    if mask is None:
        mask = masks[queues] = sum(1 << q for q in queues)
    return mask


SMALL_ROWS = 512  # up to this many rows the columns are read row by row in one table
_PICKS: dict = {}  # opcode -> itemgetter of (COLUMNS..., dtype in, dtype w) from values + (0,)


def _small_columns(rows: list):
    """The COLUMNS and dtypes of a few rows (a kernel's dozen): one table row per instruction,
    the same integers _fill_columns writes (0 where the format lacks a column, the weight
    dtype = the input dtype where it has none), without numpy steps per opcode."""
    table = np.array([_pick(i.opcode)((*i.values, 0)) for i in rows], np.int64)
    columns = table.reshape(len(rows), len(COLUMNS) + 2).T.copy()
    return (dict(zip(COLUMNS, columns)), columns[-2].astype(np.int16),
            columns[-1].astype(np.int16))


def _pick(op) -> itemgetter:
    pick = _PICKS.get(op)
    if pick is None:
        index = OPCODES[op].format.operand_index
        din = next((c for c in ("dtype_act", "dtype_in", "dtype") if c in index), None)
        din_at = index[din] if din is not None else -1  # -1: the 0 appended to the values
        pick = _PICKS[op] = itemgetter(*(index.get(c, -1) for c in COLUMNS), din_at,
                                       index.get("dtype_wgt", din_at))
    return pick


def _fill_columns(op: Opcode, instrs: list, where, fields, dtype_in, dtype_w) -> None:
    """The COLUMNS and dtypes of the rows `where`, all of opcode `op`, read in one pass."""
    index = OPCODES[op].format.operand_index
    din = next((c for c in ("dtype_act", "dtype_in", "dtype") if c in index), None)
    names = [c for c in COLUMNS if c in index] + [c for c in (din, "dtype_wgt") if c in index]
    if not names:
        return
    getter = itemgetter(*(index[c] for c in names))
    values = chain.from_iterable(map(getter, (i.values for i in instrs))) if len(names) > 1 \
        else map(getter, (i.values for i in instrs))
    table = np.fromiter(values, np.int64, len(instrs) * len(names)).reshape(len(instrs), -1)
    column = dict(zip(names, table.T))
    for c in COLUMNS:
        if c in column:
            fields[c][where] = column[c]
    if din is not None:
        dtype_in[where] = column[din]
    dtype_w[where] = column.get("dtype_wgt", dtype_in[where])


def _flat_extents(rows: list, queue: np.ndarray):
    """(row, buffer, bytes, writes) of every on-chip operand (DRAM operands left out), four
    integers per operand in one flat array (no per-operand Python objects kept). Equal
    instructions have equal extents: each distinct one is measured once (looked up by object
    first: the compiler shares equal instructions)."""
    by_object: dict = {}  # id(instruction) -> flat (buffer, bytes, writes) of its operands
    by_value: dict = {}   # (opcode, values) -> the same
    parts = []
    for instr in rows:  # `rows` holds every instruction: ids stay unique while this runs
        ext = by_object.get(id(instr))
        if ext is None:
            key = (instr.opcode, instr.values)
            ext = by_value.get(key)
            if ext is None:
                ext = by_value[key] = _extents(instr)
            by_object[id(instr)] = ext
        parts.append(ext)
    counts = np.fromiter(map(len, parts), np.int64, len(parts)) // 3
    flat = np.fromiter(chain.from_iterable(parts), np.int64).reshape(-1, 3)
    return (np.repeat(np.arange(len(rows), dtype=np.int64), counts), flat[:, 0].copy(),
            flat[:, 1].copy(), flat[:, 2] != 0)


def _extents(instr) -> tuple:
    is_load = instr.queue == Queue.LD
    return tuple(v for role, buf, _, size in isa.operand_extents(instr)
                 if role != "dram" and buf != DRAM_BUFFER_ID
                 for v in (buf, size, role in _WRITTEN or (role == "sram" and is_load)))


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
