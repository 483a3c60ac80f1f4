"""MATMUL / GEMV / PIM_GEMV on integers, and the conversion of their int32 output tiles.

Operand layouts (the ISA word gives base addresses and shapes; the program's annotation gives
what the word has no field for, see compiler.codegen.emitter.Emitter.notes):
  activation  linear: row r at act_addr + r * act_pitch.
              attention: tile row r = t * hpg + j (query token t, head j of the KV group);
              ATTN_SCORE reads q head (i * hpg + j) of token t at
              act_addr + t * act_pitch + (i * hpg + j) * head_dim bytes; ATTN_CONTEXT reads
              probability row t * heads + i * hpg + j (rows act_pitch apart).
  weight      tile i at wgt_addr + i * wgt_tile_stride; linear tiles are k x n row-major
              (int8, or int4 low nibble first, times the integer group scale of w4a8);
              K tiles (wgt_transposed) are n token rows of k dims, V tiles k token rows of
              n dims, rows wgt_pitch bytes apart.
  output      tile i (m x n int32, little-endian) at out_addr + i * m * n * 4; accumulate
              adds into it. Partial sums must stay in int32 (an overflow is reported).
"""
from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError
from hwsim.functional.memory import Memories, pack_int, unpack
from isa import intmath as im
from isa import vecmath

INT32 = (-(2 ** 31), 2 ** 31 - 1)


def act_tile(mem: Memories, f: dict, note: dict, i: int) -> np.ndarray:
    m, k = f["m"], f["k"]
    kind = note.get("kind", "matmul")
    pitch = note.get("act_pitch", k)
    if kind == "matmul":
        base = f["act_addr"] + (i * m * k if f["act_step"] else 0)
        raw = mem.rows(f["act_buf"], base, m, k, pitch)
        return unpack(raw, 8, m * k).reshape(m, k)
    hpg, heads, hd = note["hpg"], note["heads"], note["head_dim"]
    out = np.empty((m, k), dtype=np.int64)
    for r in range(m):
        t, j = divmod(r, hpg)
        if kind == "attn_score":
            addr = f["act_addr"] + t * pitch + (i * hpg + j) * hd
        else:
            addr = f["act_addr"] + (t * heads + i * hpg + j) * pitch
        out[r] = unpack(mem.rows(f["act_buf"], addr, 1, k, k), 8, k)
    return out


def weight_tile(mem: Memories, f: dict, note: dict, i: int, const: dict | None) -> np.ndarray:
    """(k, n) int64 weight tile i."""
    k, n = f["k"], f["n"]
    base = f["wgt_addr"] + i * note.get("wgt_tile_stride", 0)
    kind = note.get("kind", "matmul")
    if kind == "matmul":
        bits = f["dtype_wgt"].bits
        nbytes = -(-k * n * bits // 8)
        w = unpack(mem.rows(f["wgt_buf"], base, 1, nbytes, nbytes), bits, k * n).reshape(k, n)
        if const is not None and const.get("group_scale") is not None:
            g = im.expand_groups(np.asarray(const["group_scale"]), const["group_size"],
                                 np.asarray(const["group_scale"]).shape[0] * const["group_size"])
            w = w * g[note["k0"]:note["k0"] + k, note["n0"]:note["n0"] + n]
        return w
    hd, pitch = note["head_dim"], note["wgt_pitch"]
    if kind == "attn_score":  # n token rows of k dims
        if k != hd:
            raise HwsimError("functional: K tiles split along head_dim are not a functional "
                             "layout yet")
        return unpack(mem.rows(f["wgt_buf"], base, n, k, pitch), 8, n * k).reshape(n, k).T
    if n != hd:
        raise HwsimError("functional: V tiles split along head_dim are not a functional "
                         "layout yet")
    return unpack(mem.rows(f["wgt_buf"], base, k, n, pitch), 8, k * n).reshape(k, n)


def run_matrix(mem: Memories, f: dict, note: dict, const: dict | None) -> None:
    m, n = f["m"], f["n"]
    if note.get("kind", "matmul") != "matmul" and not note.get("whole_rows", True):
        raise HwsimError("functional: attention tiles with several tokens and part of the "
                         "KV groups are not a functional layout yet")
    for i in range(max(1, f["count"])):
        acc = act_tile(mem, f, note, i) @ weight_tile(mem, f, note, i, const)
        addr = f["out_addr"] + i * m * n * 4
        if f["accumulate"]:
            acc = acc + unpack(mem.rows(f["out_buf"], addr, 1, m * n * 4, m * n * 4), 32,
                               m * n).reshape(m, n)
        if acc.min(initial=0) < INT32[0] or acc.max(initial=0) > INT32[1]:
            raise HwsimError(f"functional: {note.get('op', '?')}: a partial sum left the int32 "
                             f"range")
        mem.write_rows(f["out_buf"], addr, pack_int(acc, 32).reshape(1, -1), m * n * 4)


def convert(mem: Memories, opcode: str, f: dict, note: dict, const: dict | None) -> None:
    """REQUANT (or a fused activation) of `count` int32 tiles (rows x cols) into the op's
    output: per-column multipliers and bias for a linear op, one multiplier for attention."""
    rows, cols = f["rows"], f["cols"]
    kind = note.get("kind", "matmul")
    for i in range(max(1, f["count"])):
        src = f["src0_addr"] + i * rows * cols * 4
        acc = unpack(mem.rows(f["src0_buf"], src, 1, rows * cols * 4, rows * cols * 4), 32,
                     rows * cols).reshape(rows, cols)
        y = _requantize(opcode, acc, f, note, const)
        _store_tile(mem, f, note, kind, i, y)


def _requantize(opcode: str, acc: np.ndarray, f: dict, note: dict, const) -> np.ndarray:
    if const is None:  # self-describing: one multiplier in imm / shift
        return im.requantize(im.saturate_int32(acc), f["imm"], f["shift"], 8)
    if note.get("kind", "matmul") != "matmul":
        return im.requantize(im.saturate_int32(acc), const["mult"], const["shift"], 8)
    cols = slice(note["col0"], note["col0"] + acc.shape[1])
    if const.get("bias_int") is not None:
        acc = acc + np.asarray(const["bias_int"])[cols]
    acc = im.saturate_int32(acc)
    if const.get("epilogue_fn"):
        y = (acc * np.asarray(const["row_scale"])[cols]).astype(np.float32)
        return im.quantize(vecmath.activation(y, const["epilogue_fn"]), const["out_scale"], 8)
    if opcode != "REQUANT":
        raise HwsimError(f"functional: {opcode} as a matrix epilogue without its constants")
    return im.requantize(acc, np.asarray(const["mult"])[cols], np.asarray(const["shift"])[cols],
                         8)


def _store_tile(mem: Memories, f: dict, note: dict, kind: str, i: int, y: np.ndarray) -> None:
    data = y.astype(np.int8).view(np.uint8)
    pitch = note.get("pitch", y.shape[1])
    if kind == "matmul":
        mem.write_rows(f["dst_buf"], f["dst_addr"], data, pitch)
        return
    hpg, heads, hd = note["hpg"], note["heads"], note["head_dim"]
    for r in range(y.shape[0]):
        t, j = divmod(r, hpg)
        if kind == "attn_score":
            addr = f["dst_addr"] + (t * heads + i * hpg + j) * pitch
        else:
            addr = f["dst_addr"] + t * pitch + (i * hpg + j) * hd
        mem.write_rows(f["dst_buf"], addr, data[r:r + 1], pitch)
