"""Weight-only schemes w8a16 / w4a16: fp16 activations, integer weights with fp16 group scales,
and the dequantization each unit really pays.

Hand figures: LLaMA2-7B has 6,738,415,616 parameters; the embedding (32,000 x 4,096) and 65
norm vectors stay fp16, every other weight is a matrix. A decoder layer holds 4 x 4096^2 +
3 x 4096 x 11008 = 202,375,168 matrix weights, lm_head 32,000 x 4,096 = 131,072,000. At groups
of 128 each weight carries 16 / 128 = 0.125 bits of fp16 scale. The A100 (40 GB) streams
1,555 GB/s at its peak; its CUDA cores issue 19.5e12 / 2 = 9.75e12 instructions/s, and Marlin
spends 1.625 (int4) / 1.5 (int8) of them per weight.
"""
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model, lower
from hwsim.simulate import simulate_program
from isa import Dtype, Queue
from tests.cli.test_bad_input import assert_one_line_error

EMBED, NORMS = 32000 * 4096, 65 * 4096
LAYER_MATRIX = 4 * 4096 ** 2 + 3 * 4096 * 11008
LM_HEAD = 32000 * 4096
A100_PEAK_BYTES_PER_S = 1555e9
NO_DEQUANT = "units.sm.dequant_instructions_per_weight.int4=1e-9"


@pytest.mark.parametrize("quant, dtype", [("w4a16", "int4"), ("w8a16", "int8")])
def test_weight_only_schemes_keep_fp16_activations_and_group_scales(quant, dtype):
    # tiny-llama is an fp32 checkpoint: "a16" casts its activations to fp16
    g = lower(load_model("tiny-llama"), Workload(phase="decode", quant=quant),
              targets.load_target("a100"))
    q = g.op("L0.q_proj")
    assert q.weight.dtype == dtype and q.inputs[0].dtype == q.output.dtype == "fp16"
    assert q.attr("quant")["weight_granularity"] == "per_group"
    assert q.attr("quant")["group_size"] == 64   # K = 64 < 128: one group per column


@pytest.mark.parametrize("quant, bits", [("w4a16", 4), ("w8a16", 8)])
def test_stored_weights_include_the_group_scales(quant, bits):
    g = lower(load_model("llama2-7b"), Workload(phase="decode", quant=quant),
              targets.load_target("a100"))
    matrix = 6738415616 - EMBED - NORMS
    expected = matrix * (bits + 16 / 128) / 8 + (EMBED + NORMS) * 2
    assert g.meta["weight_bytes"] == pytest.approx(expected, rel=1e-4)


def _run(phase, sets=(), layers=1, **kw):
    target = targets.load_target("a100", list(sets))
    c = compile_model(load_model("llama2-7b"), Workload(phase=phase, layers=layers,
                                                        quant="w4a16", **kw), target)
    return c, simulate_program(c.program, target, 1)


def test_removing_the_dequantization_cost_makes_prefill_faster():
    c, on = _run("prefill", seq=128)
    _, off = _run("prefill", [NO_DEQUANT], seq=128)
    # the dequantization the program asks for, from its instructions: every int4 weight tile a
    # matrix row multiplies, 1.625 instructions per weight at 9.75e12 per second
    rows = [i.fields for q in (Queue.MM, Queue.MV) for i in c.program.streams[q]]
    weights = sum(f["n"] * f["k"] * f["count"] for f in rows
                  if f.get("dtype_wgt") == Dtype.INT4)
    assert weights >= LAYER_MATRIX + LM_HEAD
    dequant_s = weights * 1.625 / 9.75e12
    # prefill at 128 tokens is compute-bound: most of the dequantization shows in the step
    assert on["seconds"] - off["seconds"] >= 0.4 * dequant_s


@pytest.mark.parametrize("sets", [(), (NO_DEQUANT,)], ids=["dequant", "no-dequant"])
def test_w4a16_decode_is_never_faster_than_its_weight_bytes(sets):
    c, r = _run("decode", sets, layers=2, context=128)
    bytes_ = (2 * LAYER_MATRIX + LM_HEAD) * (4 + 16 / 128) / 8
    assert r["seconds"] >= bytes_ / A100_PEAK_BYTES_PER_S
    assert r["bytes"]["dram_read"] >= bytes_


@pytest.mark.parametrize("target", ["flightllm-u280", "neupims", "mllm-npu-sd8gen3"])
@pytest.mark.parametrize("quant", ["w4a16", "w8a16"])
def test_units_without_a_dequantization_datapath_refuse_in_one_line(hwsim, target, quant):
    out = hwsim("simulate", "tiny-llama", "-t", target, "--quant", quant)
    assert_one_line_error(out, f"target {target} has no unit that dequantizes",
                          f"--quant {quant}", "dequant_weights_per_cycle unset")


def test_a_described_dequantization_datapath_runs_and_is_charged():
    # NeuPIMs' systolic NPU given a datapath of 1 weight per cycle: its in-order matrix queue
    # needs at least one cycle per weight tile element it multiplies
    sets = ["units.systolic.dequant_weights_per_cycle=1"]
    target = targets.load_target("neupims", sets)
    c = compile_model(load_model("tiny-llama"), Workload(phase="prefill", seq=16,
                                                         quant="w4a16"), target)
    assert c.graph.op("L0.q_proj").kind == OpKind.MATMUL
    r = simulate_program(c.program, target, 1)
    freq = target.clocks[target.units["systolic"].clock].freq_hz
    weights = sum(i.fields["n"] * i.fields["k"] * i.fields["count"]
                  for i in c.program.streams[Queue.MM] if i.fields.get("dtype_wgt") == Dtype.INT4)
    assert weights >= 2 * (4 * 64 * 64 + 3 * 64 * 128)   # 2 layers' matrices at least
    assert r["seconds"] >= weights / freq
    wide = targets.load_target("neupims", ["units.systolic.dequant_weights_per_cycle=4096"])
    c_wide = compile_model(load_model("tiny-llama"), Workload(phase="prefill", seq=16,
                                                              quant="w4a16"), wide)
    assert simulate_program(c_wide.program, wide, 1)["seconds"] < r["seconds"]


def test_the_group_size_is_a_workload_field():
    # groups of 32: 16 / 32 = 0.5 bits of scale per weight (gpt-fast's int4 G=32)
    g = lower(load_model("llama2-7b"), Workload(phase="decode", quant="w4a16", group_size=32),
              targets.load_target("a100"))
    assert g.op("L0.q_proj").attr("quant")["group_size"] == 32
    matrix = 6738415616 - EMBED - NORMS
    assert g.meta["weight_bytes"] == pytest.approx(matrix * 4.5 / 8 + (EMBED + NORMS) * 2,
                                                   rel=1e-4)


def test_a_bad_group_size_is_one_line(hwsim):
    assert_one_line_error(hwsim("simulate", "tiny-llama", "-t", "a100", "--quant", "w4a16",
                                "--group-size", "0"), "--group-size must be >= 1, not 0")
