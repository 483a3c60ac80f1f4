"""Integer attention of the quantized reference (int8-activation schemes, 8-bit KV cache).

The cache holds the K and V producers' int8 outputs unchanged (what the program's KV_WRITE
stores copy), so each cache part has the per-tensor scale of its producer. Then both attention
products are integer GEMMs, exact whatever the tiling, followed by one per-tensor requantize:
  ATTN_SCORE   acc[b,s,h,l] = sum_d q[b,s,h,d] * K[b, h // g, l, d]             (int64)
               y = requantize(acc, quantize_multiplier(s_q * s_k * attn_scale / s_y))
  ATTN_CONTEXT acc[b,s,h,d] = sum_l p[b,s,h,l] * V[b, h // g, l, d]
               y = requantize(acc, quantize_multiplier(s_p * s_v / s_y))
(g = query heads per KV head; all products of scales in float64). Future positions are not
masked here: the SOFTMAX that reads the scores applies the causal mask.
"""
from __future__ import annotations

import numpy as np

from isa import intmath as im


def kv_producer_scales(part_widths: list[int], producer_scales: list) -> np.ndarray:
    """(cols,) float32 column scales of a KV_WRITE whose parts keep their producers' scales."""
    return np.concatenate([np.full(w, np.float32(s), dtype=np.float32)
                           for w, s in zip(part_widths, producer_scales)])


def per_tensor_multiplier(*scale_ratio: float) -> tuple[int, int]:
    """quantize_multiplier(a * b * ... / last) with every step in float64."""
    *num, den = (np.float64(x) for x in scale_ratio)
    value = np.float64(1.0)
    for x in num:
        value = value * x
    return im.quantize_multiplier(float(value / den))


def score_acc(q: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """q (B, S, H, D) ints, keys (B, Hkv, L, D) ints -> (B * S * H, L) int64 sums."""
    k = np.repeat(keys.astype(np.int64), q.shape[2] // keys.shape[1], axis=1)
    acc = np.einsum("bshd,bhld->bshl", q.astype(np.int64), k)
    return acc.reshape(-1, acc.shape[-1])


def context_acc(p: np.ndarray, values: np.ndarray) -> np.ndarray:
    """p (B, S, H, L) ints, values (B, Hkv, L, D) ints -> (B * S, H * D) int64 sums."""
    v = np.repeat(values.astype(np.int64), p.shape[2] // values.shape[1], axis=1)
    acc = np.einsum("bshl,bhld->bshd", p.astype(np.int64), v)
    return acc.reshape(acc.shape[0] * acc.shape[1], -1)


def requantize_per_tensor(acc: np.ndarray, mult_shift: tuple[int, int]) -> np.ndarray:
    mult, shift = mult_shift
    return im.requantize(im.saturate_int32(acc), mult, shift, 8)
