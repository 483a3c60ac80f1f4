"""Program verifier: token balance and deadlock freedom, operand bounds, units the target has.

`Resources` is what the verifier needs to know of a target; `targets` builds it, so this layer
stays free of any import of ours.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

from isa.enums import Dtype, Queue, SparseMode
from isa.errors import IsaError
from isa.formats import DRAM_BUFFER_ID
from isa.instruction import Instruction
from isa.opcodes import OPCODES, Opcode
from isa.program import Program

ALWAYS_PRESENT = frozenset({Queue.LD, Queue.ST, Queue.SYS})
_VERIFIED = "_verified_against"  # (resources, issue order) of the last pass, kept on the program


@dataclass(frozen=True)
class Resources:
    """A target as the verifier sees it. `buffers[i]` is (name, bytes) of buffer id i."""

    target_name: str
    buffers: tuple[tuple[str, int], ...]
    units_per_queue: dict  # Queue -> number of units serving it (LD, ST, SYS: always 1)
    pim: bool
    dram_bytes: int


def verify(program: Program, resources: Resources | None = None, tokens: bool = True
           ) -> list[tuple[Queue, int]]:
    """Raise IsaError for the first problem; return a token-consistent issue order.

    Without `resources` only the target-independent checks run (shapes, tokens). A program is
    immutable, so a pass is remembered on it: verifying it again against equal resources (the
    compiler verifies, then the simulator does) costs nothing. `tokens=False`: per-instruction
    checks only. A compact program (isa.compact) is checked in its compact form.
    """
    if not isinstance(program, Program):
        from isa.compact_verify import verify_compact
        return verify_compact(program, resources, verify)
    remembered = remembered_order(program, resources)
    if remembered is not None:
        return remembered
    passed: set = set()  # instructions equal to one checked already (a third are distinct)
    for q, stream in program.streams.items():
        for index, instr in enumerate(stream):
            key = (instr.opcode, instr.values)  # equal keys: equal instructions
            if key in passed:
                continue
            if not _passes_quickly(instr, resources):  # the checks below name the problem
                where = f"{instr.opcode.name} at {q.name}[{index}]"
                _check_shape(instr, where)
                if resources is not None:
                    _check_unit(instr, where, resources)
                    _check_bounds(instr, where, resources)
            passed.add(key)
    if not tokens:
        return []
    return checked_order(program, resources, program)


def remembered_order(program, resources) -> list | None:
    """The issue order a pass against equal `resources` left on `program`, else None."""
    remembered = program.__dict__.get(_VERIFIED)
    if remembered is not None and remembered[0] == resources:
        return list(remembered[1])
    return None


def checked_order(program, resources, probe: Program) -> list[tuple[Queue, int]]:
    """The token checks of `probe` (balanced channels, a deadlock-free issue order), the
    order remembered on `program` (which `probe` is, or stands for) against `resources`."""
    channels = token_channels(probe)
    check_token_balance(probe, channels)
    order = issue_order(probe, channels)
    object.__setattr__(program, _VERIFIED, (resources, tuple(order)))
    return order


def check_token_balance(program: Program, channels: dict | None = None) -> None:
    """Every (source queue -> destination queue) channel: releases == waits. `channels`:
    token_channels(program), when the caller has it already."""
    channels = token_channels(program) if channels is None else channels
    given = [0] * (_NQ * _NQ)  # (source s, destination d) at s * _NQ + d
    taken = [0] * (_NQ * _NQ)
    for pairs in channels.values():
        for wait, release in pairs:
            for c in release:
                given[c] += 1
            for c in wait:
                taken[c] += 1
    if given == taken:
        return
    for s in Queue:
        for d in Queue:
            count, waits = given[s * _NQ + d], taken[s * _NQ + d]
            if count != waits:
                raise IsaError(f"unbalanced tokens {s.name}->{d.name}: {s.name} releases "
                               f"{count}, {d.name} waits for {waits}")


_NQ = len(Queue)


def token_channels(program: Program) -> dict:
    """Queue -> per instruction (channels it waits on, channels it releases to), a channel
    (source s, destination d) numbered s * len(Queue) + d."""
    out = {}
    for q, stream in program.streams.items():
        known = _PAIRS[q]
        pairs = []
        for instr in stream:
            key = instr.values[:2]  # wait, release: the first two operand fields of every format
            pair = known.get(key)
            if pair is None:
                qi = int(q)  # plain ints: IntEnum arithmetic is several times slower
                pair = (tuple(sorted(int(s) * _NQ + qi for s in key[0])),
                        tuple(sorted(qi * _NQ + int(d) for d in key[1])))
                if len(known) < _PAIRS_MAX:
                    known[key] = pair
            pairs.append(pair)
        out[q] = pairs
    return out


# per queue: (wait, release) frozensets -> their channel tuples, a pure function of the two
# sets (at most 64 x 64 of them per queue), shared by every program
_PAIRS: dict = {q: {} for q in Queue}
_PAIRS_MAX = 4096


def issue_order(program: Program, channels: dict | None = None) -> list[tuple[Queue, int]]:
    """An order of (queue, index) in which every wait finds its token; IsaError on deadlock.

    Each channel has one consumer queue, so taking tokens greedily never starves anyone: the
    greedy pass completes exactly when some complete order exists.
    """
    channels = token_channels(program) if channels is None else channels
    heads = {q: 0 for q in Queue}
    tokens = [0] * (_NQ * _NQ)
    order: list[tuple[Queue, int]] = []
    progress = True
    while progress:
        progress = False
        for q, pairs in channels.items():
            head = first = heads[q]
            n = len(pairs)
            while head < n:
                wait, release = pairs[head]
                blocked = False
                for c in wait:
                    if tokens[c] == 0:
                        blocked = True
                        break
                if blocked:
                    break
                for c in wait:
                    tokens[c] -= 1
                for c in release:
                    tokens[c] += 1
                head += 1
            if head > first:
                order.extend(zip(repeat(q, head - first), range(first, head)))
                heads[q] = head
                progress = True
    stuck = [(q, heads[q]) for q, s in program.streams.items() if heads[q] < len(s)]
    if stuck:
        detail = "; ".join(
            f"{q.name}[{i}] {program.streams[q][i].opcode.name} waits on "
            + ",".join(s.name for s in sorted(program.streams[q][i]["wait"])
                       if tokens[int(s) * _NQ + int(q)] == 0)
            for q, i in stuck)
        raise IsaError(f"deadlock: no queue can proceed ({detail})")
    return order


def operand_extents(instr: Instruction) -> list[tuple[str, int, int, int]]:
    """(operand, buffer id, byte offset, byte extent) for every on-chip or off-chip operand."""
    op = instr.opcode
    pick = _EXTENT_FIELDS.get(op)
    if pick is None:
        return []
    fmt, get = pick
    if fmt == "mem":
        buf, sram_addr, dram_addr, rows, row_bytes, sram_stride, dram_stride = get(instr.values)
        sram = (rows - 1) * (sram_stride or row_bytes) + row_bytes
        dram = (rows - 1) * (dram_stride or row_bytes) + row_bytes
        return [("sram", buf, sram_addr, sram), ("dram", DRAM_BUFFER_ID, dram_addr, dram)]
    if fmt == "matrix":
        (sparse_mode, sparse_n, sparse_m, m, n, k, count, act_step, dtype_act, dtype_wgt,
         dtype_out, act_buf, act_addr, wgt_buf, wgt_addr, out_buf, out_addr) = get(instr.values)
        kept = 1.0 if sparse_mode == SparseMode.DENSE else sparse_n / sparse_m
        wgt = count * _bytes(k * n * kept, dtype_wgt)
        acts = count if act_step else 1
        return [("act", act_buf, act_addr, acts * _bytes(m * k, dtype_act)),
                ("wgt", wgt_buf, wgt_addr, wgt),
                ("out", out_buf, out_addr, count * _bytes(m * n, dtype_out))]
    (rows, cols, count, dtype_in, dtype_out, src0_buf, src0_addr, src1_buf, src1_addr, dst_buf,
     dst_addr) = get(instr.values)
    elems = rows * cols
    out_elems = rows if op in (Opcode.VMAX, Opcode.VSUM) else elems
    src1_elems = {Opcode.LAYERNORM: 2 * cols, Opcode.RMSNORM: cols}.get(op, elems)
    out = [("src0", src0_buf, src0_addr, count * _bytes(elems, dtype_in))]
    if "src1" in OPCODES[op].reads:
        out.append(("src1", src1_buf, src1_addr, count * _bytes(src1_elems, dtype_in)))
    out.append(("dst", dst_buf, dst_addr, count * _bytes(out_elems, dtype_out)))
    return out


# the fields operand_extents reads, per format, in its order (looked up in the format table)
_EXTENT_NAMES = {
    "mem": ("buf", "sram_addr", "dram_addr", "rows", "row_bytes", "sram_stride_bytes",
            "dram_stride_bytes"),
    "matrix": ("sparse_mode", "sparse_n", "sparse_m", "m", "n", "k", "count", "act_step",
               "dtype_act", "dtype_wgt", "dtype_out", "act_buf", "act_addr", "wgt_buf",
               "wgt_addr", "out_buf", "out_addr"),
    "vector": ("rows", "cols", "count", "dtype_in", "dtype_out", "src0_buf", "src0_addr",
               "src1_buf", "src1_addr", "dst_buf", "dst_addr"),
}
_EXTENT_FIELDS = {
    op: (spec.format.name, itemgetter(*(spec.format.operand_index[name]
                                        for name in _EXTENT_NAMES[spec.format.name])))
    for op, spec in OPCODES.items()
    if spec.format.name in _EXTENT_NAMES and (spec.format.name != "mem" or
                                               op in (Opcode.LOAD, Opcode.STORE))}


# per format, the fields that must be >= 1 (_check_shape, and _passes_quickly by position)
_DIMS = {"mem": ("rows", "row_bytes"), "matrix": ("m", "n", "k", "count"),
         "vector": ("rows", "cols", "count")}


def _quick_table(op: Opcode, spec) -> tuple:
    """(format name, indices of the fields that must be >= 1, extra indices) of `op`, for
    _passes_quickly; extra: mem (rows, row_bytes, sram_stride_bytes), matrix (sparse_mode,
    wgt_buf)."""
    index, fmt = spec.format.operand_index, spec.format.name
    dims = _DIMS.get(fmt, ())
    extra = {"mem": ("rows", "row_bytes", "sram_stride_bytes"),
             "matrix": ("sparse_mode", "wgt_buf")}.get(fmt, ())
    return (fmt, tuple(index[n] for n in dims), tuple(index[n] for n in extra),
            index["unit"], spec.queue, spec.queue in ALWAYS_PRESENT)


_QUICK = {op: _quick_table(op, spec) for op, spec in OPCODES.items()}


def _passes_quickly(instr: Instruction, res: Resources | None) -> bool:
    """True when _check_shape, _check_unit and _check_bounds all pass `instr` (dense shapes,
    units and extents read by position, no message built); False sends it through them (an
    N:M or block-sparse matrix row always goes there, as does any failure)."""
    op, v = instr.opcode, instr.values
    fmt, dims, extra, unit_at, queue, always = _QUICK[op]
    for i in dims:
        if v[i] == 0:
            return False
    if fmt == "mem":
        rows, row_bytes, stride = (v[i] for i in extra)
        if rows > 1 and 0 < stride < row_bytes:
            return False
    elif fmt == "matrix":
        if v[extra[0]] != SparseMode.DENSE or \
                (op == Opcode.PIM_GEMV and v[extra[1]] != DRAM_BUFFER_ID):
            return False
    if res is None:
        return True
    available = 1 if always else res.units_per_queue.get(queue, 0)
    if v[unit_at] >= available or (op == Opcode.PIM_GEMV and not res.pim):
        return False
    buffers = res.buffers
    for operand, buf, offset, extent in operand_extents(instr):
        if operand == "dram" or (operand == "wgt" and op == Opcode.PIM_GEMV):
            if offset + extent > res.dram_bytes:
                return False
        elif buf >= len(buffers) or offset + extent > buffers[buf][1]:
            return False
    return True


def _bytes(elements: float, dtype: Dtype) -> int:
    return -(-int(round(elements * dtype.bits)) // 8)


def _check_shape(instr: Instruction, where: str) -> None:
    f = instr.fields
    fmt = instr.spec.format.name
    for name in _DIMS.get(fmt, ()):
        if f[name] == 0:
            raise IsaError(f"{where}: {name} = 0; must be >= 1")
    if fmt == "mem" and f["rows"] > 1 and 0 < f["sram_stride_bytes"] < f["row_bytes"]:
        # overlapping on-chip rows: a LOAD would overwrite its own rows, and a STORE could
        # move (rows x row_bytes) far more bytes than the buffer holds
        raise IsaError(f"{where}: sram_stride_bytes = {f['sram_stride_bytes']} is less than "
                       f"row_bytes = {f['row_bytes']}; on-chip rows must not overlap")
    if fmt == "matrix" and f["sparse_mode"] != SparseMode.DENSE:
        n, m = f["sparse_n"], f["sparse_m"]
        if m == 0 or n > m:
            raise IsaError(f"{where}: sparsity {n}:{m} needs 1 <= M and N <= M")
        if f["sparse_mode"] == SparseMode.NM and f["k"] % m:
            raise IsaError(f"{where}: k = {f['k']} is not a multiple of the N:M group M = {m}")
    if instr.opcode == Opcode.PIM_GEMV and f["wgt_buf"] != DRAM_BUFFER_ID:
        raise IsaError(f"{where}: PIM_GEMV weights must be in off-chip memory "
                       f"(wgt_buf = {DRAM_BUFFER_ID})")


def _check_unit(instr: Instruction, where: str, res: Resources) -> None:
    available = 1 if instr.queue in ALWAYS_PRESENT else res.units_per_queue.get(instr.queue, 0)
    if available == 0:
        raise IsaError(f"{where}: target {res.target_name} has no unit serving queue "
                       f"{instr.queue.name}")
    if instr["unit"] >= available:
        raise IsaError(f"{where}: unit {instr['unit']} does not exist; target "
                       f"{res.target_name} has {available} unit(s) serving {instr.queue.name}")
    if instr.opcode == Opcode.PIM_GEMV and not res.pim:
        raise IsaError(f"{where}: target {res.target_name} has no PIM banks")


def _check_bounds(instr: Instruction, where: str, res: Resources) -> None:
    for operand, buf, offset, extent in operand_extents(instr):
        if operand == "dram" or (operand == "wgt" and instr.opcode == Opcode.PIM_GEMV):
            if offset + extent > res.dram_bytes:
                raise IsaError(f"{where}: {operand} operand [{offset:#x}, +{extent} B) overflows "
                               f"off-chip memory ({res.dram_bytes} B)")
            continue
        if buf >= len(res.buffers):
            raise IsaError(f"{where}: {operand} operand names buffer id {buf}; target "
                           f"{res.target_name} has {len(res.buffers)} buffers")
        name, size = res.buffers[buf]
        if offset + extent > size:
            raise IsaError(f"{where}: {operand} operand [{offset:#x}, +{extent} B) overflows "
                           f"buffer {name} ({size} B)")
