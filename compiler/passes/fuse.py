"""Fuse: an activation that is the only reader of a matrix op becomes that op's epilogue.

The matrix op's output conversion (one VEC instruction per output tile) applies the activation
instead of a plain requantize, so the pre-activation tensor never makes a round trip. The
activation node disappears; its readers read the matrix op.
"""
from __future__ import annotations

from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.passes.partition import ACTIVATION_OPCODES


def run(graph: Graph, target) -> Graph:
    fused: dict[str, str] = {}  # activation name -> matrix op name
    epilogue: dict[str, tuple[str, str]] = {}  # matrix op -> (opcode, activation fn)
    for op in graph.ops():
        if op.kind != OpKind.ACTIVATION:
            continue
        (src,) = graph.sources(op.name)
        producer = graph.op(src)
        if producer.kind == OpKind.MATMUL and graph.out_degree(src) == 1 \
                and op.attr("fn") in ACTIVATION_OPCODES:
            fused[op.name] = src
            epilogue[src] = (ACTIVATION_OPCODES[op.attr("fn")], op.attr("fn"))
    if not fused:
        return graph
    items = []
    for op in graph.ops():
        if op.name in fused:
            continue
        if op.name in epilogue:
            opcode, fn = epilogue[op.name]
            op = op.with_attrs(epilogue=opcode, epilogue_fn=fn)
        items.append((op, tuple(fused.get(s, s) for s in graph.sources(op.name))))
    return graph.rebuild(items).with_meta(**graph.meta)
