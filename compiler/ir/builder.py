"""ModelSpec + Workload -> Graph: the decoder stack as ops with shapes (no numbers).

One forward pass of the workload's phase: prefill runs `seq` new tokens per sequence over an
empty cache; decode runs one new token per sequence over `context` cached tokens.
"""
from __future__ import annotations

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.ir.tensor import TensorSpec
from compiler.ir.workload import Workload
from compiler.model import ModelSpec

ACT_DTYPES = {"fp16": "fp16", "bf16": "bf16", "fp32": "fp32"}
KV_DTYPES = {8: "int8", 4: "int4", 3: "int3", 2: "int2"}  # --kv-bits 16 keeps the model dtype


class GraphBuilder:
    """Accumulates (op, sources) in program order; `add` returns the op's name."""

    def __init__(self, model: ModelSpec, workload: Workload) -> None:
        self.m, self.w = model, workload
        self.batch = workload.batch
        self.q_len = workload.step_tokens
        self.context = workload.step_context
        self.tokens = self.batch * self.q_len
        self.dtype = ACT_DTYPES.get(model.checkpoint_dtype, "fp16")
        self.kv_dtype = KV_DTYPES.get(workload.kv_bits, self.dtype)
        self.items: list[tuple[Op, tuple[str, ...]]] = []
        self.specs: dict[str, TensorSpec] = {}
        self._interned: dict[tuple, TensorSpec] = {}  # (shape, dtype, ...) -> one spec

    def add(self, name: str, kind: OpKind, sources: tuple[str, ...], out_shape: tuple,
            weight: tuple | None = None, kv: tuple | None = None, layer: int | None = None,
            inputs: tuple[TensorSpec, ...] | None = None, out_dtype: str | None = None,
            **attrs) -> str:
        ins = inputs if inputs is not None else tuple(self.specs[s] for s in sources)
        op = Op(name=name, kind=kind, inputs=ins,
                output=self._spec(tuple(out_shape), out_dtype or self.dtype),
                weight=self._spec(tuple(weight), self.dtype) if weight else None,
                kv=self._spec(tuple(kv), self.kv_dtype) if kv else None,
                layer=layer, attrs=attrs)
        self.items.append((op, sources))
        self.specs[name] = op.output
        return name

    def _spec(self, shape: tuple, dtype: str) -> TensorSpec:
        """One TensorSpec object per (shape, dtype): every layer's ops share them, so the
        passes' content keys (Graph.map_ops_by_content) compare them by identity. The key
        holds the dims' types too: 4 and 4.0 (or a numpy integer) are equal but print apart."""
        key = (shape, dtype, *map(type, shape))
        spec = self._interned.get(key)
        if spec is None:
            spec = self._interned[key] = TensorSpec(shape, dtype)
        return spec

    # ---- building blocks -------------------------------------------------------------------
    def linear(self, name, src, k, n, layer, role, bias=False, rows=None, **attrs) -> str:
        rows = rows or self.specs[src].shape[0]
        return self.add(name, OpKind.MATMUL, (src,), (rows, n), weight=(k, n), layer=layer,
                        role=role, bias=bias, rows=rows, **attrs)

    def norm(self, name, src, width, layer) -> str:
        if self.m.norm == "layernorm":
            return self.add(name, OpKind.LAYERNORM, (src,), self.specs[src].shape,
                            weight=(2, width), layer=layer, eps=self.m.norm_eps)
        return self.add(name, OpKind.RMSNORM, (src,), self.specs[src].shape, weight=(width,),
                        layer=layer, eps=self.m.norm_eps)

    def elementwise(self, name, kind, a, b, layer) -> str:
        return self.add(name, kind, (a, b), self.specs[a].shape, layer=layer)

    def build(self) -> Graph:
        from compiler.ir.blocks import attention, mlp  # the two halves of a decoder layer
        m = self.m
        ids = TensorSpec((self.tokens,), "int32")
        x = self.add("embed", OpKind.EMBEDDING, (), (self.tokens, m.hidden_size),
                     weight=(m.vocab_size, m.hidden_size), inputs=(ids,),
                     scale=m.embedding_scale)
        if m.position == "learned":
            pos = self.add("pos_embed", OpKind.EMBEDDING, (), (self.tokens, m.hidden_size),
                           weight=(m.max_position, m.hidden_size), inputs=(ids,))
            x = self.elementwise("embed_add_pos", OpKind.ADD, x, pos, None)
        layers = self.w.layers or m.num_layers
        if layers > m.num_layers:
            raise CompilerError(f"--layers {layers} exceeds the model's {m.num_layers} layers")
        for i in range(layers):
            h = self.norm(f"L{i}.attn_norm", x, m.hidden_size, i)
            a = attention(self, i, h)
            if m.parallel_block:
                f = mlp(self, i, h)
                x = self.elementwise(f"L{i}.residual", OpKind.ADD, x, a, i)
                x = self.elementwise(f"L{i}.mlp_residual", OpKind.ADD, x, f, i)
            else:
                x = self.elementwise(f"L{i}.residual", OpKind.ADD, x, a, i)
                h2 = self.norm(f"L{i}.mlp_norm", x, m.hidden_size, i)
                f = mlp(self, i, h2)
                x = self.elementwise(f"L{i}.mlp_residual", OpKind.ADD, x, f, i)
        x = self.norm("final_norm", x, m.hidden_size, None)
        last = TensorSpec((self.batch, m.hidden_size), self.dtype)  # logits of the last token
        self.add("lm_head", OpKind.MATMUL, (x,), (self.batch, m.vocab_size),
                 weight=(m.hidden_size, m.vocab_size), inputs=(last,), role="lm_head",
                 rows=self.batch, tied=m.tie_embeddings, bias=False)
        return Graph.from_ops(m, self.w, self.items)


def build_graph(model: ModelSpec, workload: Workload) -> Graph:
    """The graph of one forward pass of `workload.phase` (generate: its decode step)."""
    check_attention_window(model, workload)
    return GraphBuilder(model, workload).build()


def check_attention_window(model: ModelSpec, workload: Workload) -> None:
    """Refuse a run whose attention would reach past the model's sliding window: every graph
    here attends causally over the whole cache, which equals sliding-window attention exactly
    while the positions a query sees (cached + new; generate: seq + gen) fit in the window."""
    window = model.attention_window
    if workload.phase == "generate":
        span, what = workload.seq + workload.gen, f"--seq {workload.seq} + --gen {workload.gen}"
    else:
        span = workload.step_context + workload.step_tokens
        what = f"--seq {workload.seq}" if workload.phase == "prefill" else \
            f"--context {workload.context} + 1"
    if window is not None and span > window:
        raise CompilerError(f"{model.name}: sliding_window {window} is shorter than the {span} "
                            f"positions this run attends over ({what}); sliding-window "
                            f"attention is not modelled: keep them <= {window}")
