"""Float32 math of the vector opcodes (norms, activations, RoPE, softmax, attention), defined
once: the compiler's reference executors and the simulator's functional mode both call these.

Inputs and outputs are float32 and arithmetic is float32, except where a line says float64
(RoPE angles, erf), which is rounded once to float32. Token rows are sequence-major:
row = b * q_len + t, position = context + t.
"""
from __future__ import annotations

import math

import numpy as np

F32 = np.float32
_erf = np.frompyfunc(math.erf, 1, 1)


def rmsnorm(x: np.ndarray, gamma: np.ndarray, eps: float, one_plus: bool = False) -> np.ndarray:
    """x (T, C), gamma (W,) with W <= C: y = x / sqrt(mean(x^2) + eps) * gamma over the first W
    columns (one_plus: * (1 + gamma), Gemma); columns past W pass through (MLA's RoPE key)."""
    w = gamma.shape[-1]
    head = x[:, :w]
    ms = np.mean(head * head, axis=-1, keepdims=True, dtype=F32)
    g = (F32(1) + gamma) if one_plus else gamma
    out = x.copy()
    out[:, :w] = head * (F32(1) / np.sqrt(ms + F32(eps))) * g
    return out


def layernorm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """x (T, W), weight (2, W) = [gamma; beta]: (x - mean) / sqrt(var + eps) * gamma + beta,
    var the biased variance over W."""
    mean = np.mean(x, axis=-1, keepdims=True, dtype=F32)
    d = x - mean
    var = np.mean(d * d, axis=-1, keepdims=True, dtype=F32)
    return d * (F32(1) / np.sqrt(var + F32(eps))) * weight[0] + weight[1]


def rope(x: np.ndarray, positions: np.ndarray, heads: int, rotary_dims: int, theta: float,
         offset: int = 0) -> np.ndarray:
    """Rotate-half RoPE. x (T, heads * W); within each head, columns [offset, offset + r) are
    rotated (r = rotary_dims), the rest pass through. With h = r / 2, i < h:
    inv_freq_i = theta^(-2i / r), angle = position * inv_freq_i (float64, then cos/sin to
    float32); y_i = x_i cos - x_{i+h} sin, y_{i+h} = x_{i+h} cos + x_i sin."""
    t, width = x.shape[0], x.shape[1] // heads
    half = rotary_dims // 2
    inv_freq = float(theta) ** (-np.arange(half, dtype=np.float64) * 2.0 / rotary_dims)
    angle = positions.astype(np.float64)[:, None] * inv_freq[None, :]
    cos, sin = np.cos(angle).astype(F32)[:, None, :], np.sin(angle).astype(F32)[:, None, :]
    out = x.reshape(t, heads, width).copy()
    x1 = out[:, :, offset:offset + half].copy()
    x2 = out[:, :, offset + half:offset + rotary_dims].copy()
    out[:, :, offset:offset + half] = x1 * cos - x2 * sin
    out[:, :, offset + half:offset + rotary_dims] = x2 * cos + x1 * sin
    return out.reshape(x.shape)


def activation(x: np.ndarray, fn: str) -> np.ndarray:
    """silu x / (1 + e^-x); gelu 0.5 x (1 + erf(x / sqrt 2)) (erf in float64); gelu_tanh
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); relu max(x, 0)."""
    if fn == "silu":
        return x / (F32(1) + np.exp(-x))
    if fn == "gelu":
        e = _erf(x.astype(np.float64) / math.sqrt(2.0)).astype(np.float64).astype(F32)
        return F32(0.5) * x * (F32(1) + e)
    if fn == "gelu_tanh":
        inner = F32(math.sqrt(2.0 / math.pi)) * (x + F32(0.044715) * x * x * x)
        return F32(0.5) * x * (F32(1) + np.tanh(inner))
    if fn == "relu":
        return np.maximum(x, F32(0))
    raise ValueError(f"unknown activation {fn!r} (silu, gelu, gelu_tanh, relu)")


def causal_allowed(batch: int, q_len: int, heads: int, context: int, causal: bool = True
                   ) -> np.ndarray:
    """(batch * q_len * heads, context + q_len) bool: row (b * q_len + t) * heads + h may
    attend to cache position j iff j <= context + t (all j when not causal)."""
    total = context + q_len
    t = (np.arange(batch * q_len * heads) // heads) % q_len
    allowed = np.arange(total)[None, :] <= (context + t)[:, None]
    return allowed if causal else np.ones_like(allowed)


def attention_scores(q: np.ndarray, keys: np.ndarray, scale: float) -> np.ndarray:
    """q (B, S, H, D), keys (B, Hkv, L, D) -> (B, S, H, L) = (q . k) * scale; query head h
    reads kv head h // (H / Hkv) (GQA)."""
    k = np.repeat(keys, q.shape[2] // keys.shape[1], axis=1)
    return np.einsum("bshd,bhld->bshl", q, k) * F32(scale)


def attention_context(p: np.ndarray, values: np.ndarray) -> np.ndarray:
    """p (B, S, H, L), values (B, Hkv, L, D) -> (B, S, H, D) = sum_l p_l v_l."""
    v = np.repeat(values, p.shape[2] // values.shape[1], axis=1)
    return np.einsum("bshl,bhld->bshd", p, v)


def masked_softmax(x: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of the allowed entries (others get exactly 0):
    e = exp(x - max_allowed(x)), y = e / sum(e)."""
    xm = np.where(allowed, x, F32(-np.inf))
    e = np.where(allowed, np.exp(xm - np.max(xm, axis=-1, keepdims=True)), F32(0))
    return e / np.sum(e, axis=-1, keepdims=True, dtype=F32)


def router_topk(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """logits (T, E) -> (weights (T, k) float32, experts (T, k) int32): the k largest logits,
    largest first, ties to the lower expert index; weights = softmax over the k selected
    logits (Mixtral's renormalized top-k)."""
    experts = np.argsort(-logits, axis=-1, kind="stable")[:, :k]
    chosen = np.take_along_axis(logits, experts, axis=-1)
    return masked_softmax(chosen, np.ones_like(chosen, dtype=bool)), experts.astype(np.int32)
