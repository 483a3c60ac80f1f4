"""Fuse attention: QK^T -> softmax -> PV becomes one tiled kernel on units that run it so.

A GPU serving stack with FlashAttention (Dao, "FlashAttention-2", 2023; what PyTorch's
scaled_dot_product_attention dispatches to for fp16 / bf16) never writes the score matrix: per
block of queries it streams key / value blocks, keeps the score tile on chip, applies the
softmax online and accumulates P V. Key blocks wholly above the causal diagonal are skipped.
Where the attention op's unit says `fused_attention`, this pass marks the three ops: the score
op carries `fused_attention` and the block (`fused_blocks`), the softmax and context ops
`fused_into` (the score op's name); codegen (compiler/codegen/lower_attention.py) emits the
whole kernel at the score op, allocate gives the score and probability tensors no home.

Only attention on the matrix queue is fused: multi-token queries (prefill, chunks). A decode
step's attention is a GEMV per sequence whose score row per head is small next to the KV cache
it reads (batch 64 at 512 tokens, LLaMA2-7B: 4 MB of scores against 537 MB of K and V per
layer), so it stays three ops. Only float attention over a plain KV cache is fused (integer attention is two exact GEMMs with
a requantize between them, N:M / block-sparse attention has its own tile format, MLA's context
is not per head), and only when the chain is exclusive (nobody else reads the scores or P).
"""
from __future__ import annotations

from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind


def run(graph: Graph, target) -> Graph:
    marks: dict[str, dict] = {}
    for op in graph.ops():
        if op.kind != OpKind.ATTN_SCORE:
            continue
        unit = _unit(op, target)
        if unit is None or not getattr(unit, "fused_attention", False):
            continue
        chain = _exclusive_chain(graph, op)
        if chain is None or not _fusable(op, graph.op(chain[1])):
            continue
        softmax, context = chain
        marks[op.name] = {"fused_attention": True,
                          "fused_blocks": (unit.attention_block_query_tokens,
                                           unit.attention_block_key_tokens),
                          "fused_softmax": softmax, "fused_context": context}
        marks[softmax] = marks[context] = {"fused_into": op.name}
    if not marks:
        return graph
    return graph.with_ops({name: graph.op(name).with_attrs(**a) for name, a in marks.items()})


def _unit(op, target):
    if op.attr("queue") != "MM":
        return None
    names = target.units_for_queue("MM")
    return target.units[names[op.attr("unit", 0)]] if names else None


def _exclusive_chain(graph: Graph, score) -> tuple[str, str] | None:
    """(softmax, context) when the score's only reader is a softmax whose only reader is the
    context op of the same layer."""
    readers = graph.successors(score.name)
    if len(readers) != 1 or graph.op(readers[0]).kind != OpKind.SOFTMAX:
        return None
    softmax = readers[0]
    after = graph.successors(softmax)
    if len(after) != 1 or graph.op(after[0]).kind != OpKind.ATTN_CONTEXT:
        return None
    return softmax, after[0]


def _fusable(score, context) -> bool:
    float_math = not score.attr("compute_dtype", "").startswith("int")
    per_head = context.output.shape[-1] == context.attr("heads") * context.attr("head_dim")
    sparse = any(op.attr(a) for op in (score, context) for a in ("sparsity", "block_sparse"))
    return float_math and per_head and score.kv is not None and not sparse \
        and context.attr("queue") == "MM"
