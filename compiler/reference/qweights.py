"""MATMUL weights as each quantization scheme stores and multiplies them.

Weights are (K, N) or (G, K, N) (G = experts or heads); scales are per output channel n (and
per group G), over K, with the formulas of isa.intmath:
  w8a8:  q = quantize(w, s, 8), s = channel_scales(w, 8)           integer weight q
  w4a8:  (q4, g, s) = quantize_two_level(w, group)                  integer weight q4 * g
  w4a16: s_g = fp16(group_scales(w, 4, group)), q4 = quantize(w, s_g, 4);
         the GEMM uses dequantize(q4, s_g) in float32 (fp16 activations)
  w8a16: the same with 8 bits
Rows listed in `float_rows` (outlier input channels, computed in float on the CPU) are zeroed
before the scales are taken, so they neither widen the scales nor enter the integer GEMM.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.errors import CompilerError
from isa import intmath as im


@dataclass(frozen=True)
class QuantWeight:
    """integer (..., K, N) int64: what the int8 activations are multiplied by;
    scale (..., N) float32: w ~= integer * scale per output channel (and group G);
    stored (..., K, N) int8: the values in memory (q or q4); group_scale (..., G, N) or None."""

    integer: np.ndarray
    scale: np.ndarray
    stored: np.ndarray
    group_scale: np.ndarray | None = None


def _without_rows(w: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    if rows is None or len(rows) == 0:
        return w
    w = w.copy()
    w[..., rows, :] = 0
    return w


def quantize_weight(w: np.ndarray, quant: dict, float_rows: np.ndarray | None = None
                    ) -> QuantWeight:
    """The integer form of a float32 weight under attrs quant (w8a8 or w4a8)."""
    w = _without_rows(w, float_rows)
    scheme = quant["scheme"]
    if scheme == "w8a8":
        s = im.channel_scales(w, 8)
        q = im.quantize(w, s, 8)
        return QuantWeight(q.astype(np.int64), np.squeeze(s, -2), q)
    if scheme == "w4a8":
        q4, g, s = im.quantize_two_level(w, quant["group_size"])
        integer = q4.astype(np.int64) * im.expand_groups(g, quant["group_size"], w.shape[-2])
        return QuantWeight(integer, np.squeeze(s, -2), q4, g)
    raise CompilerError(f"no integer GEMM for scheme {scheme!r} (w8a8, w4a8)")


WEIGHT_ONLY_BITS = {"w4a16": 4, "w8a16": 8}


def w4a16_scales(w: np.ndarray, group: int, bits: int = 4) -> np.ndarray:
    """Per-group scales (..., ceil(K / group), N), rounded to fp16 (how they are stored)."""
    return im.group_scales(w, bits, group).astype(np.float16).astype(np.float32)


def dequantized_weight(w: np.ndarray, quant: dict | None) -> np.ndarray:
    """The float32 weight an fp16-activation GEMM multiplies by: w4a16 / w8a16
    group-dequantized, or (no quant attrs / fp16) w rounded to fp16."""
    if not quant or quant["scheme"] == "fp16":
        return w.astype(np.float16).astype(np.float32)
    bits = WEIGHT_ONLY_BITS.get(quant["scheme"])
    if bits is None:
        raise CompilerError(f"scheme {quant['scheme']!r} has int8 activations; use the "
                            f"integer GEMM")
    group = quant["group_size"]
    s = im.expand_groups(w4a16_scales(w, group, bits), group, w.shape[-2])
    return im.dequantize(im.quantize(w, s, bits), s)
