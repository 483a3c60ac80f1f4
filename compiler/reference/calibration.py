"""Static activation scales, calibrated once on the float path (mllm-NPU's per-tensor scheme).

calibrate() runs the float32 executor on the same graph, token ids, weights and KV cache and
derives, per op output:
  scale = scale_for(max |finite y|, 8)   one float32 per tensor (masked -inf scores excluded)
  KV_WRITE: a (columns,) vector, one scale per cache part and segment (K, V; MLA latent and
    RoPE key), each scale_for(max |full cache after the step|, kv_bits) over that slice;
and, for a MATMUL with attrs outlier_channels = c > 0:
  outliers     = the c input channels with the largest max |x| over the rows the GEMM reads
                 (ties to the lower index), sorted ascending;
  input_scale  = scale_for(max |x| over the other channels, 8).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from isa import intmath as im
from compiler.reference.float_exec import EXPERTS_SUFFIX, FloatExecutor
from compiler.reference.kvcache import KVCache, kv_parts, scale_segments
from compiler.reference.matmul_layout import activation_source, gather_rows, router_source
from compiler.reference.weights import WeightStore


@dataclass(frozen=True)
class Calibration:
    scales: dict[str, np.ndarray]        # op name -> float32 scale (0-d, or (cols,) KV_WRITE)
    outliers: dict[str, np.ndarray]      # MATMUL name -> int64 input channels kept in float
    input_scales: dict[str, np.ndarray]  # MATMUL name -> float32 scale of the other channels
    kv_bits: int | None                  # integer KV cache width, None for a float cache


def kv_column_scales(graph: Graph, op: Op, full: list[np.ndarray], bits: int) -> np.ndarray:
    """(parts * heads * head_dim,) float32: per part and segment, the scale of the whole cache
    slice (batch, heads, positions, segment) after this step."""
    cols = []
    for part in full:
        d = part.shape[-1]
        head = np.empty(d, dtype=np.float32)
        for lo, hi in scale_segments(graph) or [(0, d)]:
            head[lo:hi] = im.scale_for(np.max(np.abs(part[..., lo:hi])), bits)
        cols.append(np.tile(head, part.shape[1]))
    return np.concatenate(cols)


def part_scales(op: Op, col_scale: np.ndarray) -> list[np.ndarray]:
    """Per cache part, the column scales shaped (1, heads, 1, head_dim) to broadcast over a
    (batch, heads, positions, head_dim) part."""
    heads, d = op.attr("kv_heads"), op.attr("head_dim")
    return [col_scale[i * heads * d:(i + 1) * heads * d].reshape(1, heads, 1, d)
            for i in range(kv_parts(op))]


def quantized_kv_step(cache: KVCache, op: Op, rows: np.ndarray, col_scale: np.ndarray,
                      bits: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """An integer KV cache step: (this step's rows quantized (T, cols) int8, the past cache
    quantized per part (int8), the full cache after the step dequantized (float32))."""
    q_rows = im.quantize(rows, col_scale, bits)
    scales = part_scales(op, col_scale)
    past_q = [im.quantize(p, s, bits) for p, s in zip(cache.past(op.name), scales)]
    past = [im.dequantize(q, s) for q, s in zip(past_q, scales)]
    full = cache.extend(op.name, im.dequantize(q_rows, col_scale), past=past)
    return q_rows, past_q, full


def _outliers(ex: FloatExecutor, op: Op, count: int) -> tuple[np.ndarray, np.ndarray]:
    router = router_source(ex.graph, op)
    experts = ex.values[router + EXPERTS_SUFFIX] if router else None
    x, _ = gather_rows(op, ex.values[activation_source(ex.graph, op)], experts, ex.batch,
                       ex.q_len)
    chan = np.max(np.abs(x), axis=0)
    chosen = np.sort(np.argsort(-chan, kind="stable")[:count]).astype(np.int64)
    rest = np.delete(chan, chosen)
    return chosen, im.scale_for(np.max(rest) if rest.size else 0.0, 8)


def calibrate(graph: Graph, token_ids, seed: int = 0, weights: WeightStore | None = None,
              cache: KVCache | None = None, kv_bits: int | None = 8) -> Calibration:
    """Static scales for the quantized executors from one float32 run (see module doc)."""
    ex = FloatExecutor(graph, token_ids, seed, weights, cache)
    ex.run()
    scales, outliers, input_scales = {}, {}, {}
    for op in graph.ops():
        y = ex.values[op.name]
        if op.kind == OpKind.KV_WRITE:
            scales[op.name] = kv_column_scales(graph, op, ex.kv_full[op.name], kv_bits or 8)
        else:
            finite = np.abs(y[np.isfinite(y)])
            scales[op.name] = im.scale_for(finite.max() if finite.size else 0.0, 8)
        count = op.attr("outlier_channels", 0) if op.kind == OpKind.MATMUL else 0
        if count:
            outliers[op.name], input_scales[op.name] = _outliers(ex, op, count)
    return Calibration(scales, outliers, input_scales, kv_bits)
