"""Inside step_memo (what `hwsim papers` runs in) a mobile target's GEMM kernel costs and the
prefill work of a prompt are computed once and shared; every number equals a fresh run's."""
import json

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from hwsim.api.flows import mobile_costs, mobile_prefill, run_model

TARGET = "mllm-npu-sd8gen3"
WORKLOAD = Workload(phase="prefill", seq=64, quant="w8a8", layers=2)


def _numbers(result: dict) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "_detail"}, sort_keys=True)


@pytest.fixture()
def counted(monkeypatch):
    """(GEMM kernel compiles, prefill_work calls) made from here on."""
    gemms, works = [], []
    real_compile, real_work = mobile_costs.compile_graph, mobile_prefill.prefill_work
    monkeypatch.setattr(mobile_costs, "compile_graph",
                        lambda *a, **k: gemms.append(1) or real_compile(*a, **k))
    monkeypatch.setattr(mobile_prefill, "prefill_work",
                        lambda *a, **k: works.append(1) or real_work(*a, **k))
    return gemms, works


def _run(overrides=()):
    return run_model.simulate_model(load_model("qwen1.5-1.8b"), WORKLOAD,
                                    targets.load_target(TARGET, list(overrides)))


def test_the_memo_shares_gemm_costs_and_prefill_work_and_changes_no_number(counted):
    gemms, works = counted
    cpu_engine, gpu_engine = ["mechanisms.prefill_engine=cpu"], ["mechanisms.prefill_engine=gpu"]
    fresh_npu = _run()
    one_run = len(gemms)
    _run()
    assert len(gemms) == 2 * one_run  # no memo: every run compiles its GEMM kernels again
    fresh_gpu, fresh_off = _run(gpu_engine), _run(["mechanisms.outlier_extraction=false"])
    assert len(works) == 4  # and works out its prefill again
    gemms.clear(), works.clear()
    with run_model.step_memo():
        npu = _run()
        first_gemms = len(gemms)
        assert first_gemms == one_run > 0 and len(works) == 1
        again = _run()  # another target object, same fingerprint: nothing is compiled
        assert (len(gemms), len(works)) == (first_gemms, 1)
        _run(cpu_engine)  # the whole prompt as one chunk: other shapes
        assert len(works) == 2
        # the GPU engine: the same chunk and quantization facts as the CPU's, shared
        gpu = _run(gpu_engine)
        assert len(works) == 2
        # outliers off changes what quantize marks: worked out again
        off = _run(["mechanisms.outlier_extraction=false"])
        assert len(works) == 3
    assert _numbers(npu) == _numbers(fresh_npu) == _numbers(again)
    assert _numbers(gpu) == _numbers(fresh_gpu)
    assert _numbers(off) == _numbers(fresh_off)
    assert run_model._STEPS == []
