"""Single-kernel graphs, the way an architect checks one unit: gemm, gemv, attention, softmax,
layernorm. Each reads its input from off-chip memory (an embedding-style gather of every row)
and runs through the normal passes and code generation."""
from __future__ import annotations

from compiler.ir.builder import GraphBuilder
from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.ir.tensor import TensorSpec
from compiler.ir.workload import Workload
from compiler.kernel_shapes import SHAPES, parse_shape
from compiler.model import ModelSpec

__all__ = ["SHAPES", "parse_shape", "kernel_graph"]


def kernel_graph(kind: str, shape: tuple[int, ...], dtype: str) -> Graph:
    quant = "w8a8" if dtype == "int8" else "fp16"
    if kind == "attention":
        batch, heads, context, hd = shape
        spec = _spec(kind, heads * hd, heads, hd)
        b = GraphBuilder(spec, Workload(phase="decode", batch=batch, context=context,
                                        quant=quant))
        q = _input(b, "q", batch, heads * hd)
        k = _input(b, "k", batch, heads * hd)
        v = _input(b, "v", batch, heads * hd)
        w = b.add("L0.kv_write", OpKind.KV_WRITE, (k, v), (batch, 2 * heads * hd), layer=0,
                  kv_heads=heads, head_dim=hd)
        total = context + 1
        common = dict(layer=0, batch=batch, heads=heads, kv_heads=heads, q_len=1,
                      context=context, causal=True, head_dim=hd)
        s = b.add("attn_score", OpKind.ATTN_SCORE, (q, w), (batch * heads, total),
                  kv=(batch, heads, total, hd), **common)
        p = b.add("softmax", OpKind.SOFTMAX, (s,), (batch * heads, total), layer=0)
        b.add("attn_context", OpKind.ATTN_CONTEXT, (p, w), (batch, heads * hd),
              kv=(batch, heads, total, hd), **common)
        return Graph.from_ops(spec, b.w, b.items)
    rows, cols = (1, shape[0]) if kind == "gemv" else shape[:2]
    spec = _spec(kind, cols, 1, cols)
    b = GraphBuilder(spec, Workload(phase="prefill", seq=rows, quant=quant))
    x = _input(b, "x", rows, cols)
    if kind in ("gemm", "gemv"):
        b.linear(kind, x, cols, shape[-1], 0, kind)
    elif kind == "softmax":
        b.add("softmax", OpKind.SOFTMAX, (x,), (rows, cols), layer=0)
    else:
        b.norm("layernorm", x, cols, 0)
    return Graph.from_ops(spec, b.w, b.items)


def _input(b: GraphBuilder, name: str, rows: int, cols: int) -> str:
    return b.add(name, OpKind.EMBEDDING, (), (rows, cols), weight=(rows, cols),
                 inputs=(TensorSpec((rows,), "int32"),))


def _spec(kind: str, hidden: int, heads: int, head_dim: int) -> ModelSpec:
    return ModelSpec(name=f"kernel-{kind}", family="kernel", source="hwsim kernel",
                     hidden_size=hidden, num_layers=1, num_heads=heads, num_kv_heads=heads,
                     head_dim=head_dim, intermediate_size=hidden, vocab_size=1,
                     max_position=1, norm="layernorm")
