"""Codegen driver: lower every op in graph order, then turn dependencies into tokens."""
from __future__ import annotations

from compiler.codegen.context import Lowering
from compiler.codegen.lower_attention import lower_fused_attention
from compiler.codegen.lower_matrix import lower_matrix
from compiler.codegen.lower_memory import lower_embedding, lower_kv_write
from compiler.codegen.lower_vector import lower_vector
from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.passes.schedule import scheduled

LOWER = {OpKind.EMBEDDING: lower_embedding, OpKind.KV_WRITE: lower_kv_write,
         OpKind.MATMUL: lower_matrix, OpKind.ATTN_SCORE: lower_matrix,
         OpKind.ATTN_CONTEXT: lower_matrix}


def generate(graph: Graph, target, annotate: bool = False, compact: bool = False):
    """A partitioned, tiled, allocated graph -> a Program (not yet verified). `annotate` adds
    the functional annotations (metadata "notes", see Emitter.notes) for hwsim.functional.
    `compact`: an isa.CompactProgram where the decoder layers repeat (compiler.codegen.compact;
    never with `annotate`), else the Program."""
    if compact and not annotate:
        from compiler.codegen.compact import generate_compact
        program = generate_compact(graph, target)
        if program is not None:
            return program
    cx = Lowering(graph, target, annotate)
    ops_meta = [lower_op(cx, op) for op in scheduled(graph)]
    return cx.em.finalize(target.name, target.fingerprint(),
                          program_metadata(graph, ops_meta, cx, annotate))


def lower_op(cx: Lowering, op) -> dict:
    """Lower one op; -> its metadata entry (where its instructions lie in each queue)."""
    start = cx.em.flat_lens()  # rows of the program stood for (repeated ones counted)
    if op.attr("fused_attention"):
        lower_fused_attention(cx, op)
    elif not op.attr("fused_into"):  # else emitted with its fused kernel
        LOWER.get(op.kind, lower_vector)(cx, op)
    return {"name": op.name, "kind": op.kind.value, "layer": op.layer, "first": start,
            "count": {q: n - start[q] for q, n in cx.em.flat_lens().items()},
            "flops": op.flops, "bytes": op.bytes_read + op.bytes_written}


def program_metadata(graph: Graph, ops_meta: list, cx: Lowering, annotate: bool) -> dict:
    metadata = {
        "model": graph.model.name,
        "workload": {k: getattr(graph.workload, k) for k in
                     ("phase", "batch", "seq", "context", "gen", "quant", "kv_bits")},
        "dram_bytes": graph.meta.get("dram_bytes", 0),
        "weights": [{"op": op.name, "dram_addr": op.attr("weight_addr"), "dtype": op.weight.dtype,
                     "shape": list(op.weight.shape)}
                    for op in graph.ops() if op.weight is not None and not op.attr("tied")],
        "ops": ops_meta,
    }
    if graph.meta.get("cross_channel_ranges"):  # [address, bytes]: hwsim.timing.cross_channel
        metadata["cross_channel_ranges"] = graph.meta["cross_channel_ranges"]
    if annotate:
        metadata["notes"] = cx.em.notes()
    return metadata

