"""Sliding-window models (issue 18, finding 12): Mistral's `sliding_window` used to be parsed
and ignored. Every graph attends causally over the whole cache, which is exactly sliding-window
attention while the positions a query sees fit in the window; past it the run is refused."""
from dataclasses import replace

import pytest

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.workload import Workload


def test_the_window_is_read_from_the_config():
    assert load_model("mistral-7b").attention_window == 4096          # config.json
    assert load_model("qwen1.5-1.8b").attention_window is None        # use_sliding_window false
    assert load_model("mixtral-8x7b").attention_window is None        # sliding_window null
    assert load_model("llama2-7b").attention_window is None


@pytest.mark.parametrize("workload, span, what", [
    (Workload(phase="decode", context=4096), 4097, "--context 4096 + 1"),
    (Workload(phase="prefill", seq=4097), 4097, "--seq 4097"),
    (Workload(phase="generate", seq=4000, gen=97), 4097, "--seq 4000 + --gen 97")])
def test_a_run_past_the_window_is_refused_in_one_line(workload, span, what):
    with pytest.raises(CompilerError) as err:
        build_graph(load_model("mistral-7b"), replace(workload, layers=1))
    assert str(err.value) == (f"mistral-7b: sliding_window 4096 is shorter than the {span} "
                              f"positions this run attends over ({what}); sliding-window "
                              f"attention is not modelled: keep them <= 4096")


@pytest.mark.parametrize("workload", [Workload(phase="decode", context=4095),
                                      Workload(phase="prefill", seq=4096),
                                      Workload(phase="generate", seq=4000, gen=96)])
def test_a_run_inside_the_window_is_built(workload):
    g = build_graph(load_model("mistral-7b"), replace(workload, layers=1))
    assert "L0.attn_score" in g.nx


def test_the_cli_refuses_on_every_path(hwsim):
    # the mobile prefill path builds no graph of its own: it is checked too
    for target in ("a100", "mllm-npu-sd8gen3"):
        out = hwsim("simulate", "mistral-7b", "-t", target, "--phase", "prefill", "--seq",
                    "5000", "--layers", "1")
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr.startswith("hwsim: error: mistral-7b: sliding_window 4096 is shorter")
        assert out.stderr.count("\n") == 1
