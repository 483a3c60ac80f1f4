"""A Program flattened into numpy arrays, one row per instruction, queue by queue.

Rows are grouped by queue in ISA queue order (LD, ST, MM, MV, VEC, SYS), each queue in its own
order; `queue_start[q]` .. `queue_start[q + 1]` are queue q's rows. Every field the timing,
energy and roofline models read is a column, so they work on whole arrays.

The operands' on-chip extents are flat too (`ext_*`, one entry per operand of each row, from
isa.operand_extents), so buffer traffic and port time are array sums, not loops over rows.

The arrays of a compact program (hwsim.program_arrays_compact) also keep `base`, the short
program's arrays, and `src`, the base row behind every row. Every per-row array but the address
column fields["dram_addr"] and op_index equals the base's gathered through `src` (isa.verify's
compact rules: copies differ only in *_addr fields), so a quantity of a row computed from those
columns alone is computed once per base row and gathered (`per_base_row`). The columns and
operand extents are gathered when first read (`GatheredColumns`, `_gathered_extents`): a run
that reads its costs from the base never builds most of them at full length.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from itertools import accumulate, chain
from operator import attrgetter, itemgetter

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
    # a compact program's arrays (not dataclass fields: set by flatten_compact); None when flat
    src = None                # int64 per row: the row of `base` it repeats
    base = None               # the short program's ProgramArrays
    repeats = None            # row_counts' answer, kept once worked out

    def __post_init__(self):
        for name in _EXTENTS:  # None: gathered from base on first read (__getattr__)
            if self.__dict__.get(name, 0) is None:
                del self.__dict__[name]

    def __getattr__(self, name):  # only for attributes not set: the extents left to gather
        if name in _EXTENTS and self.__dict__.get("base") is not None:
            self.__dict__.update(zip(_EXTENTS, _gathered_extents(self.base, self.src)))
            return self.__dict__[name]
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self.opcode)


_EXTENTS = ("ext_row", "ext_buf", "ext_bytes", "ext_write")


def base_of(a: ProgramArrays) -> ProgramArrays:
    """The rows whose values the others repeat: a.base for a compact program, else a."""
    return a if a.base is None else a.base


def gathered(a: ProgramArrays, values: np.ndarray) -> np.ndarray:
    """Per row of `a`, from `values` per row of base_of(a)."""
    return values if a.base is None else values[a.src]


def per_base_row(a: ProgramArrays, values_of, *args, **kwargs) -> np.ndarray:
    """values_of(base_of(a), *args) gathered to the rows of `a`. `values_of` must give each
    row a value from that row's own columns other than dram_addr and op_index (then it is the
    same number as values_of(a) gives); per-row arguments in `args` are the base's."""
    return gathered(a, values_of(base_of(a), *args, **kwargs))


def once_per_arrays(a: ProgramArrays, key, compute):
    """compute(a), worked out once per ProgramArrays and kept on it (service, energy, roofline
    and the GPU waves each ask for a row's work; energy and simulate for the byte sums).
    `compute` may read only columns that never change after flatten (every one but the
    address column fields["dram_addr"]); arrays in the value are kept read-only."""
    kept = a.__dict__.setdefault("_once", {})
    if key not in kept:
        value = compute(a)
        for array in (value if isinstance(value, tuple) else (value,)):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        kept[key] = value
    return kept[key]


def row_counts(a: ProgramArrays) -> np.ndarray | None:
    """Per row of base_of(a): how many rows of `a` repeat it; None for a flat program."""
    if a.base is None:
        return None
    if a.repeats is None:  # one pass over the rows, however many sums read it
        a.repeats = np.bincount(a.src, minlength=len(a.base))
    return a.repeats


class GatheredColumns(MutableMapping):
    """The COLUMNS of a compact program's rows: base column[src], built on first read (a
    column read for an address update is built then and updated in place)."""

    def __init__(self, base_fields: dict, src: np.ndarray):
        self._base, self._src, self._built = base_fields, src, {}

    def __getitem__(self, name: str) -> np.ndarray:
        column = self._built.get(name)
        if column is None:
            values = self._base[name]
            # a column zero throughout is a fresh zeros array, whose pages the operating
            # system maps only when written (dense programs: sparsity fields, unit, wgt_buf)
            column = self._built[name] = values[self._src] if values.any() else \
                np.zeros(len(self._src), values.dtype)
        return column

    def __setitem__(self, name: str, column: np.ndarray) -> None:
        self._built[name] = column

    def built(self, name: str) -> bool:
        """Whether the column is built (read, or moved by address deltas)."""
        return name in self._built

    def __delitem__(self, name: str) -> None:
        raise TypeError("program columns cannot be removed")

    def __iter__(self):
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


def _gathered_extents(base: ProgramArrays, src: np.ndarray) -> tuple:
    """(ext_row, ext_buf, ext_bytes, ext_write) of the flat rows: each row's base row's
    operands, in order."""
    ext_row, ext = _expand(np.bincount(base.ext_row, minlength=len(base.opcode)), src)
    return ext_row, base.ext_buf[ext], base.ext_bytes[ext], base.ext_write[ext]


def _expand(per: np.ndarray, which: np.ndarray) -> tuple:
    """(ext_row, ext): item `which[i]` owns per[which[i]] consecutive entries of a table laid
    out item by item; per row i, in order, the row number and the table index of each."""
    first = np.concatenate([[0], np.cumsum(per)[:-1]]).astype(np.int64)
    take = per[which]
    starts = np.concatenate([[0], np.cumsum(take)[:-1]]).astype(np.int64)
    ext = np.repeat(first[which] - starts, take) + np.arange(int(take.sum()), dtype=np.int64)
    return np.repeat(np.arange(len(which), dtype=np.int64), take), ext


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
    opcode = np.fromiter(map(_OPCODE, rows), np.int16, n)
    queue = np.repeat(_QUEUE_VALUES, counts)  # rows queue by queue
    values = list(map(_VALUES, rows))  # each row's field values (the one Python call per row)
    # wait, release: the first two fields of every format, frozensets of queues (a few
    # distinct ones per program, each turned into its bit mask once)
    waits, releases = list(map(_FIRST, values)), list(map(_SECOND, values))
    masks = {q: _mask(q) for q in set(waits).union(releases)}
    wait = np.fromiter(map(masks.__getitem__, waits), np.uint8, n)
    release = np.fromiter(map(masks.__getitem__, releases), np.uint8, n)
    del waits, releases
    if n <= SMALL_ROWS:
        fields, dtype_in, dtype_w = _small_columns(rows, values)
    else:
        fields = {c: np.zeros(n, np.int64) for c in COLUMNS}
        dtype_in = np.zeros(n, np.int16)
        dtype_w = np.zeros(n, np.int16)
        for op in np.unique(opcode):
            where = np.flatnonzero(opcode == op)
            _fill_columns(Opcode(int(op)), [values[r] for r in where.tolist()], where, fields,
                          dtype_in, dtype_w)
    del values
    queue_start = np.array([0, *accumulate(counts)], np.int64)
    op_index, names = op_rows(program.metadata, queue_start, n)
    return ProgramArrays(opcode, queue, wait, release, fields, dtype_in, dtype_w, queue_start,
                         op_index, names, *_flat_extents(rows, queue))


_OPCODE, _VALUES = attrgetter("opcode"), attrgetter("values")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_QUEUE_VALUES = np.array([int(q) for q in Queue], np.int8)
_MASKS: dict = {}  # a frozenset of queues -> its bit mask (bit s: queue s); 64 sets at most


def _mask(queues: frozenset) -> int:
    mask = _MASKS.get(queues)
    if mask is None:
        mask = _MASKS[queues] = sum(1 << s for s in queues)
    return mask


SMALL_ROWS = 512  # up to this many rows: plain lists and dicts beat numpy's set-up per step
# (the columns read row by row in one table; service's per-value maps)
_PICKS: dict = {}  # opcode -> itemgetter of (COLUMNS..., dtype in, dtype w) from values + (0,)


def _small_columns(rows: list, values: list):
    """The COLUMNS and dtypes of a few rows (a kernel's dozen; `values`: their field values):
    one table row per instruction, the same integers _fill_columns writes (0 where the format
    lacks a column, the weight dtype = the input dtype where it has none), without numpy steps
    per opcode."""
    table = np.array([_pick(i.opcode)((*v, 0)) for i, v in zip(rows, values)], np.int64)
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


def _fill_columns(op: Opcode, values: list, where, fields, dtype_in, dtype_w) -> None:
    """The COLUMNS and dtypes of the rows `where`, all of opcode `op` (`values`: their field
    values), read in one pass."""
    index = OPCODES[op].format.operand_index
    din = next((c for c in ("dtype_act", "dtype_in", "dtype") if c in index), None)
    names = [c for c in COLUMNS if c in index] + [c for c in (din, "dtype_wgt") if c in index]
    if not names:
        return
    getter = itemgetter(*(index[c] for c in names))
    table = np.fromiter(chain.from_iterable(map(getter, values)) if len(names) > 1
                        else map(getter, values), np.int64,
                        len(values) * len(names)).reshape(len(values), -1)
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
    first: the compiler shares equal instructions, so a program of a million rows has some ten
    thousand distinct objects) and gathered to the rows."""
    if len(rows) <= SMALL_ROWS:
        return _small_extents(rows)
    ids = list(map(id, rows))  # `rows` holds every instruction: ids stay unique while this runs
    by_value: dict = {}  # (opcode, values) -> index of its extents in `distinct`
    slot: dict = {}      # id(instruction) -> the same
    distinct = []        # flat (buffer, bytes, writes) of the operands of each distinct value
    for key, instr in dict(zip(ids, rows)).items():
        value = (instr.opcode, instr.values)
        k = by_value.get(value)
        if k is None:
            k = by_value[value] = len(distinct)
            distinct.append(_extents(instr))
        slot[key] = k
    which = np.fromiter(map(slot.__getitem__, ids), np.int64, len(rows))
    per = np.fromiter(map(len, distinct), np.int64, len(distinct)) // 3
    table = np.fromiter(chain.from_iterable(distinct), np.int64).reshape(-1, 3)
    ext_row, ext = _expand(per, which)
    return ext_row, table[ext, 0], table[ext, 1], table[ext, 2] != 0


def _small_extents(rows: list):
    """_flat_extents of a few rows (a kernel's dozen) in plain lists, one array per column at
    the end instead of the numpy steps that gather distinct extents to many rows."""
    known: dict = {}
    ext_row, bufs, sizes, writes = [], [], [], []
    for r, instr in enumerate(rows):
        key = (instr.opcode, instr.values)
        e = known.get(key)
        if e is None:
            flat = _extents(instr)  # (buffer, bytes, writes) per on-chip operand, flat
            e = known[key] = [flat[i:i + 3] for i in range(0, len(flat), 3)]
        for buf, size, write in e:
            ext_row.append(r)
            bufs.append(buf)
            sizes.append(size)
            writes.append(write)
    return (np.array(ext_row, np.int64), np.array(bufs, np.int64), np.array(sizes, np.int64),
            np.array(writes, bool))


def _extents(instr) -> tuple:
    is_load = instr.queue == Queue.LD
    return tuple(v for role, buf, _, size in isa.operand_extents(instr)
                 if role != "dram" and buf != DRAM_BUFFER_ID
                 for v in (buf, size, role in _WRITTEN or (role == "sram" and is_load)))


def op_rows(metadata: dict, queue_start, n):
    """Map rows to the compiler's ops through the program metadata (if present)."""
    index = np.full(n, -1, np.int32)
    names = []
    starts = queue_start.tolist()
    for k, op in enumerate(metadata.get("ops", [])):
        names.append(op["name"])
        firsts, counts = op["first"], op["count"]
        for name, count in counts.items():  # queue name -> rows (absent or 0: none)
            if count and name in _QUEUE_OF:
                start = starts[_QUEUE_OF[name]] + firsts.get(name, 0)
                index[start:start + count] = k
    return index, names


_QUEUE_OF = {q.name: int(q) for q in Queue}


def is_opcode(arrays: ProgramArrays, *ops: Opcode) -> np.ndarray:
    return np.isin(arrays.opcode, [int(o) for o in ops])
