"""Vector instructions of the integer path: dequantize the int8 inputs with their scales, run
the op's float32 math (isa.vecmath, the same functions as the compiler's reference), quantize
with the output scale. Rows are contiguous (rows x cols int8); `row0` (annotation) is the
tile's first row in the op's output, which fixes RoPE positions and the causal mask."""
from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError
from hwsim.functional.memory import Memories, unpack
from isa import intmath as im
from isa import vecmath as K

BINARY = ("VADD", "VMUL")


def run_vector(mem: Memories, opcode: str, f: dict, note: dict, const: dict) -> None:
    rows, cols = f["rows"], f["cols"]
    srcs = [("src0_buf", "src0_addr")] + ([("src1_buf", "src1_addr")] if opcode in BINARY
                                          else [])
    xs = [im.dequantize(unpack(mem.rows(f[b], f[a], 1, rows * cols, rows * cols), 8,
                               rows * cols).reshape(rows, cols), np.float32(s))
          for (b, a), s in zip(srcs, const["in_scales"])]
    y = _compute(opcode, xs, note["row0"], const)
    q = im.quantize(y, np.float32(const["out_scale"]), 8)
    mem.write_rows(f["dst_buf"], f["dst_addr"], q.view(np.uint8).reshape(1, -1), rows * cols)


def _compute(opcode: str, xs: list[np.ndarray], row0: int, c: dict) -> np.ndarray:
    x = xs[0]
    rows = np.arange(row0, row0 + x.shape[0])
    if opcode == "VADD":
        return xs[0] + xs[1]
    if opcode == "VMUL":
        return xs[0] * xs[1]
    if opcode == "RMSNORM":
        return K.rmsnorm(x, np.asarray(c["gain"], np.float32), c["eps"], c["one_plus"])
    if opcode == "LAYERNORM":
        return K.layernorm(x, np.asarray(c["gain"], np.float32), c["eps"])
    if opcode == "ROPE":
        positions = c["context"] + rows % c["q_len"]
        return K.rope(x, positions, c["heads"], c["rotary_dims"], c["theta"])
    if opcode in ("SILU", "GELU", "RELU"):
        return K.activation(x, c["fn"])
    if opcode == "SOFTMAX":
        t = (rows // c["heads"]) % c["q_len"]
        allowed = np.arange(x.shape[1])[None, :] <= (c["context"] + t)[:, None]
        if not c.get("causal", True):
            allowed = np.ones_like(allowed)
        return K.masked_softmax(x, allowed)
    raise HwsimError(f"functional: vector opcode {opcode} is not supported on the integer path")
