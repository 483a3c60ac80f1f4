"""The float32 reference executor: every op of a graph, in graph order, in numpy.

`run_float(graph, token_ids)` returns {op name: output array} with each op's output shape
(token rows sequence-major, row = b * q_len + t). Extra entries: for a MOE_ROUTER op `name`,
`name` holds the routing weights (T, top_k) float32 and `name + ":experts"` the chosen experts
(T, top_k) int32. Conventions the IR leaves open (see the kernels module for the math):
  - attention scale 1/sqrt(head_dim); MLA: 1/sqrt(qk_nope_head_dim + qk_rope_head_dim);
  - ATTN_SCORE output rows are (b * q_len + t) * heads + h; masked (future) entries are -inf;
  - RoPE rotates the first rotary_dims of each head, except in MLA models, whose RoPE part is
    the last rotary_dims of each head (DeepSeek's [nope ; rope] split);
  - a norm whose weight is narrower than its input (MLA kv_a_norm) normalizes the leading
    columns and passes the rest (the RoPE key) through;
  - the learned position table (EMBEDDING with role "position" or named pos_embed) is indexed
    by position, the token table by token id.
"""
from __future__ import annotations

import math

import numpy as np

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from isa import vecmath as K
from compiler.reference.kvcache import KVCache
from compiler.reference.matmul_layout import (activation_source, gather_rows, grouped_matmul,
                                              router_source, scatter_rows)
from compiler.reference.weights import WeightStore, gemma_norm

EXPERTS_SUFFIX = ":experts"


def token_ids_for(graph: Graph, token_ids) -> np.ndarray:
    """Token ids as (batch * q_len,) int64; accepts (batch, q_len) or flat. CompilerError on a
    wrong count or an id outside [0, vocab)."""
    w, vocab = graph.workload, graph.model.vocab_size
    ids = np.asarray(token_ids, dtype=np.int64).reshape(-1)
    want = w.batch * w.step_tokens
    if ids.size != want:
        raise CompilerError(f"token_ids has {ids.size} ids; the {w.phase} graph needs "
                            f"batch x tokens = {want}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise CompilerError(f"token id {int(ids.max() if ids.max() >= vocab else ids.min())} "
                            f"is outside the vocabulary [0, {vocab})")
    return ids


def attention_scale(graph: Graph, op: Op) -> float:
    mla = graph.model.mla
    dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim if mla else op.attr("head_dim")
    return 1.0 / math.sqrt(dim)


class FloatExecutor:
    """Runs a graph in float32. Subclasses override `input`, `execute` and `matmul_weight`."""

    def __init__(self, graph: Graph, token_ids, seed: int = 0,
                 weights: WeightStore | None = None, cache: KVCache | None = None) -> None:
        self.graph, self.model = graph, graph.model
        w = graph.workload
        self.batch, self.q_len, self.context = w.batch, w.step_tokens, w.step_context
        self.ids = token_ids_for(graph, token_ids)
        self.positions = np.tile(self.context + np.arange(self.q_len), self.batch)
        self.weights = weights or WeightStore(graph, seed)
        self.cache = cache or KVCache(graph, seed)
        self.values: dict[str, np.ndarray] = {}
        self.kv_full: dict[str, list[np.ndarray]] = {}  # KV_WRITE name -> parts after step

    def run(self) -> dict[str, np.ndarray]:
        for op in self.graph.ops():
            self.execute(op)
        return self.values

    def execute(self, op: Op) -> None:
        self.values[op.name] = self.compute(op)

    def compute(self, op: Op) -> np.ndarray:
        return getattr(self, "_" + op.kind.value)(op)

    def input(self, name: str) -> np.ndarray:
        """An op's output as float32, as the next op reads it."""
        return self.values[name]

    def matmul_weight(self, op: Op) -> np.ndarray:
        return self.weights.matmul_weight(op)

    def _source(self, op: Op, kind: OpKind | None = None, exclude: OpKind | None = None) -> str:
        names = [s for s in self.graph.sources(op.name)
                 if (kind is None or self.graph.op(s).kind == kind)
                 and (exclude is None or self.graph.op(s).kind != exclude)]
        if len(names) != 1:
            raise CompilerError(f"{op.name}: expected one {kind or 'input'}, found {names}")
        return names[0]

    def _sources(self, op: Op) -> list[np.ndarray]:
        return [self.input(s) for s in self.graph.sources(op.name)]

    # ---- elementwise and normalization ------------------------------------------------
    def _embedding(self, op: Op) -> np.ndarray:
        position = op.attr("role") == "position" or op.name == "pos_embed"
        out = self.weights.weight(op.name)[self.positions if position else self.ids]
        if op.attr("scale"):
            out = out * np.float32(math.sqrt(self.model.hidden_size))
        return out

    def _rmsnorm(self, op: Op) -> np.ndarray:
        (x,) = self._sources(op)
        return K.rmsnorm(x, self.weights.weight(op.name), op.attr("eps", self.model.norm_eps),
                         one_plus=gemma_norm(self.model))

    def _layernorm(self, op: Op) -> np.ndarray:
        (x,) = self._sources(op)
        return K.layernorm(x, self.weights.weight(op.name), op.attr("eps", self.model.norm_eps))

    def _rope(self, op: Op) -> np.ndarray:
        (x,) = self._sources(op)
        heads, dims = op.attr("heads"), op.attr("rotary_dims")
        offset = x.shape[1] // heads - dims if self.model.mla is not None else 0
        return K.rope(x, self.positions, heads, dims, op.attr("theta"), offset)

    def _activation(self, op: Op) -> np.ndarray:
        (x,) = self._sources(op)
        return K.activation(x, op.attr("fn"))

    def _add(self, op: Op) -> np.ndarray:
        a, b = self._sources(op)
        return a + b

    def _mul(self, op: Op) -> np.ndarray:
        a, b = self._sources(op)
        return a * b

    def _softmax(self, op: Op) -> np.ndarray:
        src = self._source(op)
        return K.masked_softmax(self.input(src), self._allowed(self.graph.op(src)))

    def _moe_router(self, op: Op) -> np.ndarray:
        (logits,) = self._sources(op)
        weights, experts = K.router_topk(logits, op.attr("top_k"))
        self.values[op.name + EXPERTS_SUFFIX] = experts
        return weights

    # ---- KV cache and attention -------------------------------------------------------
    def _kv_rows(self, op: Op) -> np.ndarray:
        """This step's cache rows (T, parts * heads * head_dim): [K ; V] or the MLA latent."""
        if len(self.graph.sources(op.name)) == 1:
            return self.input(self.graph.sources(op.name)[0])
        names = self.graph.sources(op.name)
        v = [n for n in names if self.graph.op(n).attr("role") == "v_proj"]
        if len(v) != 1:
            raise CompilerError(f"{op.name}: cannot tell K from V among {names}")
        k = [n for n in names if n != v[0]][0]
        return np.concatenate([self.input(k), self.input(v[0])], axis=1)

    def _kv_write(self, op: Op) -> np.ndarray:
        rows = self._kv_rows(op)
        self.kv_full[op.name] = self.cache.extend(op.name, rows)
        return rows

    def _allowed(self, score_op: Op) -> np.ndarray:
        return K.causal_allowed(self.batch, self.q_len, score_op.attr("heads"), self.context,
                                score_op.attr("causal", True))

    def _queries(self, op: Op, qname: str) -> np.ndarray:
        """(B, S, H, D) queries; MLA: [q_absorb head h ; RoPE part of q head h]."""
        heads = op.attr("heads")
        q = self.input(qname).reshape(self.batch, self.q_len, heads, -1)
        mla = self.model.mla
        if mla is None:
            return q
        (qrope,) = [self.input(s) for s in self.graph.sources(qname)]
        qr = qrope.reshape(self.batch, self.q_len, heads, -1)[..., mla.qk_nope_head_dim:]
        return np.concatenate([q, qr], axis=-1)

    def _attn_score(self, op: Op) -> np.ndarray:
        kv = self._source(op, kind=OpKind.KV_WRITE)
        q = self._queries(op, self._source(op, exclude=OpKind.KV_WRITE))
        scores = K.attention_scores(q, self.kv_full[kv][0], attention_scale(self.graph, op))
        scores = scores.reshape(-1, scores.shape[-1])
        return np.where(self._allowed(op), scores, np.float32(-np.inf))

    def _attn_context(self, op: Op) -> np.ndarray:
        kv = self.kv_full[self._source(op, kind=OpKind.KV_WRITE)]
        heads = op.attr("heads")
        p = self.input(self._source(op, exclude=OpKind.KV_WRITE))
        p = p.reshape(self.batch, self.q_len, heads, -1)
        if self.model.mla is None:
            values = kv[1]
        else:
            values = kv[0][..., :self.model.mla.kv_lora_rank]
        return K.attention_context(p, values).reshape(self.batch * self.q_len, -1)

    # ---- GEMM ---------------------------------------------------------------------------
    def _matmul(self, op: Op) -> np.ndarray:
        router = router_source(self.graph, op)
        experts = self.values[router + EXPERTS_SUFFIX] if router else None
        x, groups = gather_rows(op, self.input(activation_source(self.graph, op)), experts,
                                self.batch, self.q_len)
        y = grouped_matmul(x, groups, self.matmul_weight(op))
        bias = self.weights.bias(op.name)
        if bias is not None:
            y = y + bias
        if op.attr("epilogue_fn"):  # an activation fused into the matrix op (passes/fuse.py)
            y = K.activation(y, op.attr("epilogue_fn"))
        return scatter_rows(op, y, self.input(router) if router else None)


def run_float(graph: Graph, token_ids, seed: int = 0) -> dict[str, np.ndarray]:
    """Execute every op of `graph` in float32 with WeightStore(graph, seed) weights and a
    KVCache(graph, seed) past. token_ids: (batch, q_len) or (batch * q_len,) ints.
    Returns {op name: float32 output} (plus `router:experts` index arrays); "lm_head" holds
    the (batch, vocab) logits of each sequence's last token."""
    return FloatExecutor(graph, token_ids, seed).run()
