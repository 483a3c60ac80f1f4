"""Rotary position embedding in an ONNX graph: where the query is rotated, and theta, the
rotated width and the table length read back from the cos/sin tables (or the inv_freq vector
the angles are computed from at run time)."""
from __future__ import annotations

import numpy as np

from compiler.frontend.onnx_graph import OnnxGraph, node_error
from compiler.frontend.onnx_parts import Core


def rope_facts(g: OnnxGraph, core: Core, q_path: list) -> tuple | None:
    """(theta, rotary_dims, table rows or None) when the query is rotated, else None.
    Fused: the RotaryEmbedding / GroupQueryAttention cos/sin caches [positions, rotary / 2];
    plain (a rotate-half Neg on the query's path): constant cos/sin tables [positions, rotary]
    (transformers < 4.38), or the inv_freq vector the angles are computed from at run time
    (transformers >= 4.38: inv_freq @ position_ids, Cos, Sin; no table, so no row count)."""
    fused = core.rotary or next((n for n in q_path if n.op_type == "RotaryEmbedding"), None)
    if fused is not None:
        first = 7 if fused.op_type == "GroupQueryAttention" else 2
        cos, sin = g.const(fused.input[first]), g.const(fused.input[first + 1])
        if cos is None or sin is None or cos.ndim != 2 or cos.shape != sin.shape:
            raise node_error(fused, "the cos/sin caches are not constant 2-D tables")
        return rope_theta(cos, sin, 2 * cos.shape[1]), 2 * cos.shape[1], cos.shape[0]
    if not any(n.op_type == "Neg" for n in q_path):
        return None
    tables = [g.const(i) for n in q_path for i in n.input if n.op_type in ("Gather", "Slice")]
    tables = [t for t in tables if t is not None and t.ndim == 2 and t.shape[0] > 1]
    cos = next((t for t in tables if np.allclose(t[0], 1.0)), None)
    sin = next((t for t in tables if np.allclose(t[0], 0.0)), None)
    if cos is not None and sin is not None:
        return rope_theta(cos, sin, cos.shape[1]), cos.shape[1], cos.shape[0]
    inv = _inv_freq(g, q_path) if any(n.op_type == "Cos" for n in q_path) else None
    if inv is None:
        raise node_error(core.node, "the query is rotated (rotate-half Neg) but neither "
                                    "constant cos/sin tables nor an inv_freq vector was found "
                                    "on its path")
    dims = 2 * inv.size
    i = np.arange(1, inv.size)
    log_theta = -np.log(inv[1:].astype(np.float64)) * dims / (2.0 * i)
    return float(f"{np.exp(np.mean(log_theta)):.6g}"), dims, None


def _inv_freq(g: OnnxGraph, q_path: list) -> np.ndarray | None:
    """The first constant on the path that reads as RoPE frequencies: 1-D (after dropping unit
    axes), at least 2 long, starting at 1 and strictly decreasing in (0, 1]."""
    for node in q_path:
        for name in node.input:
            value = g.const(name) if name else None
            if value is None or value.size < 2:
                continue
            flat = np.squeeze(value)
            if flat.ndim == 1 and np.isclose(flat[0], 1.0) and np.all(np.diff(flat) < 0) \
                    and flat[-1] > 0:
                return flat
    return None


def rope_theta(cos: np.ndarray, sin: np.ndarray, rotary_dims: int) -> float:
    """theta from the tables: each frequency's angle, unwrapped down the rows, is a line
    through 0 of slope theta^(-2i / rotary_dims); least squares per frequency, then each
    i >= 1's log theta weighted by its inverse variance (the angle span it covers x 2i / r).
    Rounded to the digits the table's dtype holds (float32: 6, float16 / bf16: 3)."""
    half = rotary_dims // 2
    angle = np.unwrap(np.arctan2(sin[:, :half].astype(np.float64),
                                 cos[:, :half].astype(np.float64)), axis=0)
    rows = np.arange(angle.shape[0], dtype=np.float64)
    slope = (rows @ angle) / (rows @ rows)
    i = np.arange(1, half)
    log_theta = -np.log(slope[1:]) * rotary_dims / (2.0 * i)
    weight = (rows[-1] * slope[1:] * 2.0 * i / rotary_dims) ** 2
    theta = float(np.exp(np.sum(weight * log_theta) / np.sum(weight)))
    digits = 6 if cos.dtype == np.float32 or cos.dtype == np.float64 else 3
    return float(f"{theta:.{digits}g}")
