"""run_model.step_memo (what `hwsim papers` runs in): inside it a compiled step that was
simulated once is not compiled again, and every number equals a fresh run's."""
import json
from dataclasses import replace

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from hwsim.api.flows import run_model

# tiny-llama, one layer, decoded at batch 256 on neupims: sub-batch interleaving applies
# (mechanisms.sub_batch_min_batch), so simulate_step first asks interleaving_pays, which
# simulates the 1- and 2-layer slices, interleaved and not: 4 compiles
WORKLOAD = Workload(phase="decode", batch=256, seq=16, context=64, layers=1)


def _numbers(result: dict) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "_detail"}, sort_keys=True)


@pytest.fixture()
def counted(monkeypatch):
    """The compile_step calls run_model makes, with interleaving_pays' cache emptied."""
    calls = []
    real = run_model.compile_step

    def compile_step(model, workload, target, **kwargs):
        calls.append((workload.layers, kwargs.get("interleave")))
        return real(model, workload, target, **kwargs)
    monkeypatch.setattr(run_model, "compile_step", compile_step)
    monkeypatch.setattr(run_model, "_PAYS", {})
    return calls


def test_without_the_memo_the_chosen_step_is_compiled_again(counted):
    run_model.simulate_model(load_model("tiny-llama"), WORKLOAD, targets.load_target("neupims"))
    assert len(counted) == 5  # 4 slices for interleaving_pays, then the step itself


def test_the_memo_compiles_each_step_once_and_changes_no_number(counted):
    model, target = load_model("tiny-llama"), targets.load_target("neupims")
    fresh = run_model.simulate_model(model, WORKLOAD, target)
    counted.clear()
    run_model._PAYS.clear()
    with run_model.step_memo():
        first = run_model.simulate_model(model, WORKLOAD, target)
        assert len(counted) == 4  # the step is one of interleaving_pays' slices
        assert sorted(counted) == [(1, False), (1, True), (2, False), (2, True)]
        two_layers = run_model.simulate_model(model, replace(WORKLOAD, layers=2), target)
        again = run_model.simulate_model(model, WORKLOAD, target)
        assert len(counted) == 4  # both served from the memo
    assert _numbers(first) == _numbers(fresh) == _numbers(again)
    assert two_layers["seconds"] > first["seconds"]
    assert run_model._STEPS == []  # closed with the block: later runs compile afresh
