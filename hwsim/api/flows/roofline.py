"""Tier 1 of a whole model: build the graph, place its ops on units, bound each op."""
from __future__ import annotations

from dataclasses import replace

from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.passes import partition, quantize
from compiler.pipeline import resolve_workload
from hwsim.roofline import op_bounds


def roofline_report(model_name, workload, target) -> dict:
    """Tier 1: per op, max(FLOPs / peak of the unit it is placed on, bytes / bandwidth).

    Decoder layers are identical but for their index (MoE models: after the leading dense
    layers), so only the layers that differ are built and the last one counts `repeat` times.
    `model_name`: a zoo name or path, or a ModelSpec.
    """
    model = load_model(model_name) if isinstance(model_name, str) else model_name
    layers = workload.layers or model.num_layers
    distinct = min(layers, (model.moe.first_dense_layers if model.moe else 0) + 1)
    graph = placed_graph(model, replace(workload, layers=distinct), target)
    bw = target.memories[target.main_memory].bandwidth_bytes_per_s
    ops = []
    for op in graph.ops():
        unit = _unit_name(op, target)
        dtype = op.attr("compute_dtype") or op.inputs[0].dtype if op.inputs else "fp16"
        peak = 2 * (target.peak_macs_per_s(unit, dtype) or max(
            target.peak_macs_per_s(unit, d) for d in ("int8", "fp16", "fp32", "bf16"))) \
            if unit else 0.0
        nbytes = op.weight_bytes_read + (op.kv.nbytes if op.kv is not None else 0)
        if op.kind.value == "kv_write":
            nbytes += op.output.nbytes
        repeat = layers - distinct + 1 if op.layer == distinct - 1 else 1
        ops.append({"name": op.name, "kind": op.kind.value, "unit": unit, "repeat": repeat,
                    "flops": op.flops * repeat, "bytes": nbytes * repeat,
                    "peak_flops_per_s": peak})
    result = op_bounds(ops, bw)
    tokens = workload.batch * (workload.seq if workload.phase == "prefill" else 1)
    return {"model": graph.model.name, "target": target.name, "phase": graph.workload.phase,
            "batch": workload.batch, "quant": graph.workload.quant, **result,
            "tokens_per_s": tokens / result["roofline_s"] if result["roofline_s"] else 0.0}


def placed_graph(model, workload, target):
    """The graph with dtypes and unit placement: all the roofline needs (no tiling, no code)."""
    graph = build_graph(model, resolve_workload(workload, target))
    return partition.run(quantize.run(graph, target), target)


def _unit_name(op, target):
    queue = op.attr("queue")
    if queue in (None, "LD", "ST"):
        return None
    return target.units_for_queue(queue)[op.attr("unit")]
