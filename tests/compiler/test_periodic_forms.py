"""compiler.codegen.periodic's layer forms (what units_affine compares) are those of the plain
recursive canonical form: names relative to the layer, every integer pulled out in sorted-key,
depth-first order, everything else kept as it is. The reference below is that definition,
written without the shortcuts (shared nested dicts, inline ints / strings / tuples, cached name
splits); it must give equal structures and integer lists on compiled graphs of several presets
and phases, and on hand-made attrs that take every branch."""
import re

import pytest

import targets
from compiler.codegen import periodic
from compiler.frontend import load_model
from compiler.ir.ops import Op, OpKind
from compiler.ir.tensor import TensorSpec
from compiler.ir.workload import Workload
from compiler.passes.schedule import scheduled
from compiler.pipeline import lower, resolve_workload

_NAME = re.compile(r"^L(\d+)\.")


def _rel(name, layer):
    m = _NAME.match(name)
    return name if m is None else (int(m.group(1)) - layer, name[m.end():])


def _ref(value, layer, ints):
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        ints.append(value)
        return int
    if isinstance(value, str):
        return _rel(value, layer)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(_ref(v, layer, ints) for v in value)
    if isinstance(value, dict):
        return tuple((k, _ref(v, layer, ints)) for k, v in sorted(value.items()))
    return value


def _ref_layer_form(graph, ops, layer):
    ints, structure = [], []
    for op in ops:
        sources = tuple(_rel(s, layer) for s in graph.sources(op.name))
        if any(isinstance(s, tuple) and s[0] < -1 for s in sources):
            return None
        structure.append((_rel(op.name, layer), op.kind, op.inputs, op.output, op.weight,
                          op.kv, sources, _ref(op.attrs, layer, ints)))
    return tuple(structure), ints


@pytest.mark.parametrize("preset,phase", [("flightllm-u280", "decode"), ("a100", "prefill"),
                                          ("neupims", "decode"), ("h100", "decode")])
def test_layer_forms_equal_the_plain_canonical_form(preset, phase):
    target = targets.load_target(preset)
    model = load_model("tiny-llama")
    graph = lower(model, resolve_workload(Workload(phase=phase, seq=16, context=32), target),
                  target)
    _, layers, _ = periodic.layer_runs(scheduled(graph))
    shared: dict = {}
    for layer, ops in enumerate(layers):
        assert periodic._layer_form(graph, ops, layer, shared) == \
            _ref_layer_form(graph, ops, layer)


class _Graph:
    def __init__(self, sources):
        self._sources = sources

    def sources(self, name):
        return list(self._sources.get(name, ()))


def test_every_attr_kind_takes_its_canonical_form():
    spec = TensorSpec((1, 4))
    nested = {"tiles": {"tm": 8, "tn": 16}, "flag": True}
    attrs = {"z_int": 7, "bool": False, "none": None, "float": 0.5, "plain": "VEC",
             "layer_name": "L3.q_proj", "not_a_layer": "Lx.q", "home": ("onchip", 2, 64),
             "mixed": ("L2.k", True, 3, ("a", 4)), "list": [1, "L4.v"], "dict": nested,
             "dict_naming": {"into": "L3.attn"}, "spec": spec}
    op = Op("L3.x", OpKind.ADD, (spec,), spec, layer=3, attrs=attrs)
    graph = _Graph({"L3.x": ("L2.mlp_residual", "embed")})
    shared: dict = {}
    for _ in range(2):  # the second time the nested dicts come from `shared`
        assert periodic._layer_form(graph, [op], 3, shared) == \
            _ref_layer_form(graph, [op], 3)
    old = _Graph({"L3.x": ("L1.mlp_residual",)})  # two layers back: no form
    assert periodic._layer_form(old, [op], 3, {}) is None
