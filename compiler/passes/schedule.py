"""Schedule: the order code generation emits ops in.

List scheduling by ASAP level: an op's level is one more than its deepest input's; ops are
emitted level by level, in program order within a level. Independent work (the K and V
projections next to Q, the MLP gate next to up) is therefore emitted together, which lets the
queues overlap it; dependencies are unchanged (code generation turns them into tokens).
"""
from __future__ import annotations

from compiler.ir.graph import Graph


def run(graph: Graph, target) -> Graph:
    level: dict[str, int] = {}
    ops = graph.ops()
    for op in ops:
        level[op.name] = 1 + max((level[s] for s in graph.sources(op.name)), default=-1)
    index = {op.name: i for i, op in enumerate(ops)}
    order = sorted(ops, key=lambda op: (level[op.name], index[op.name]))
    return graph.with_ops({op.name: op.with_attrs(schedule_index=i) for i, op in enumerate(order)})


def scheduled(graph: Graph) -> list:
    """Ops in schedule order (program order when the graph was never scheduled)."""
    ops = graph.ops()
    if all(op.attr("schedule_index") is not None for op in ops):
        return sorted(ops, key=lambda op: op.attr("schedule_index"))
    return ops
