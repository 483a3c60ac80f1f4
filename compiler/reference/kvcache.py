"""The KV cache of the reference: `context` seeded past positions per layer, extended by KV_WRITE.

Layout. A KV_WRITE op's output rows are tokens (row = b * q_len + t, sequence-major) and its
columns are one or two *parts*, each `heads x head_dim` wide:
  MHA / GQA: parts [K, V], each (kv_heads * head_dim) columns;
  MLA:       one part, the latent [c_kv (kv_lora_rank) ; k_rope (qk_rope_head_dim)], 1 head.
A part of the cache is an array (batch, heads, positions, head_dim) float32.

The past cache (decode: workload.step_context > 0 positions; prefill: 0) is normal(0, 1),
seeded per KV_WRITE op from (seed, "kvcache", op name), so it is O(1) like the K/V it stands
for (MLA's latent comes out of an RMS norm).
"""
from __future__ import annotations

import numpy as np

from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.reference.weights import rng_for


def kv_parts(op: Op) -> int:
    """1 (MLA latent) or 2 (K and V): output columns / (kv_heads x head_dim)."""
    return op.output.shape[1] // (op.attr("kv_heads") * op.attr("head_dim"))


def scale_segments(graph: Graph) -> list[tuple[int, int]]:
    """Column ranges of one cache head that get their own quantization scale: the MLA latent
    and its RoPE key differ in range, so they are two segments; an MHA head is one."""
    mla = graph.model.mla
    if mla is None:
        return []
    rank = mla.kv_lora_rank
    return [(0, rank), (rank, rank + mla.qk_rope_head_dim)]


def rows_to_heads(rows: np.ndarray, batch: int, q_len: int, heads: int) -> np.ndarray:
    """(batch * q_len, heads * d) token rows -> (batch, heads, q_len, d)."""
    d = rows.shape[1] // heads
    return rows.reshape(batch, q_len, heads, d).transpose(0, 2, 1, 3)


class KVCache:
    """Past K/V (or latent) per KV_WRITE op of a graph; `extend` appends this step's rows."""

    def __init__(self, graph: Graph, seed: int = 0) -> None:
        self.graph, self.seed = graph, seed
        self.batch = graph.workload.batch
        self.q_len = graph.workload.step_tokens
        self.context = graph.workload.step_context
        self._past: dict[str, list[np.ndarray]] = {}

    def past(self, name: str) -> list[np.ndarray]:
        """Per part, the cached (batch, heads, context, head_dim) float32 array."""
        if name not in self._past:
            op = self.graph.op(name)
            if op.kind != OpKind.KV_WRITE:
                raise KeyError(f"op {name} is not a kv_write")
            rng = rng_for(self.seed, "kvcache", name)
            shape = (self.batch, op.attr("kv_heads"), self.context, op.attr("head_dim"))
            self._past[name] = [rng.standard_normal(shape).astype(np.float32)
                                for _ in range(kv_parts(op))]
        return self._past[name]

    def extend(self, name: str, new_rows: np.ndarray,
               past: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Per part, the cache after this step: (batch, heads, context + q_len, head_dim).

        new_rows: the KV_WRITE output (batch * q_len, parts * heads * head_dim); `past`
        replaces the stored past (the quantized path passes its dequantized copy).
        """
        op = self.graph.op(name)
        past = self.past(name) if past is None else past
        heads = op.attr("kv_heads")
        cols = heads * op.attr("head_dim")
        out = []
        for i, old in enumerate(past):
            new = rows_to_heads(new_rows[:, i * cols:(i + 1) * cols], self.batch, self.q_len,
                                heads)
            out.append(np.concatenate([old, new.astype(old.dtype)], axis=2))
        return out
