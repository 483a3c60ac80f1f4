"""Graph.map_ops_by_content: the passes that read only an op's content (quantize, partition,
tile) call their per-op function once per distinct op, and give exactly the ops map_ops gives."""
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.graph import Graph
from compiler.ir.workload import Workload
from compiler.passes import fuse, partition, quantize, tile
from compiler.pipeline import lower, resolve_workload

CASES = [("llama2-7b", "flightllm-u280", "decode"), ("llama2-7b", "flightllm-u280", "prefill"),
         ("gpt3-7b", "neupims", "decode"), ("llama2-7b", "a100", "prefill"),
         ("qwen1.5-1.8b", "mllm-npu-sd8gen3", "prefill"), ("llama2-7b", "h100", "decode")]


def _ops(graph) -> list:
    return [(op.name, op.layer, op.kind, op.inputs, op.output, op.weight, op.kv, op.attrs)
            for op in graph.ops()]


@pytest.mark.parametrize("model, target, phase", CASES)
def test_by_content_gives_the_ops_map_ops_gives(model, target, phase, monkeypatch):
    t = targets.load_target(target)
    w = resolve_workload(Workload(phase=phase, seq=64, context=100, layers=4), t)
    shared = lower(load_model(model), w, t)
    monkeypatch.setattr(Graph, "map_ops_by_content", Graph.map_ops)  # one call per op
    flat = lower(load_model(model), w, t)
    assert _ops(shared) == _ops(flat)


def _calls(layers: int, monkeypatch) -> int:
    """Calls of tile's per-op function for llama2-7b decode on u280 with `layers` layers."""
    t = targets.load_target("flightllm-u280")
    w = resolve_workload(Workload(phase="decode", context=100, layers=layers), t)
    graph = partition.run(fuse.run(quantize.run(build_graph(load_model("llama2-7b"), w), t),
                                   t), t)
    calls = []
    real = tile._tile
    monkeypatch.setattr(tile, "_tile", lambda op, *rest: calls.append(op.name) or
                        real(op, *rest))
    tiled = tile.run(graph, t)
    assert len(tiled) == len(graph)
    return len(calls)


def test_identical_layers_cost_no_extra_calls(monkeypatch):
    # every decoder layer of llama2-7b is the same ops up to names, layer and (after
    # partition) nothing else: 3 more layers, no more calls; map_ops would make one per op
    three, six = _calls(3, monkeypatch), _calls(6, monkeypatch)
    assert three == six
    assert six < 40  # 6 layers x 15+ ops would be over 90 calls one per op
