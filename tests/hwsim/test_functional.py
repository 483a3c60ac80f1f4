"""Functional mode: compiled programs executed instruction by instruction equal the compiler's
integer reference bit for bit (tiny models, every preset, integer paths), and a wrong
semantic in the executor makes the comparison fail."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

import hwsim.api.flows.functional_check as fc
import hwsim.functional.matrix as mx
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from targets import load_target, preset_names
from targets.loader import preset_dir

SHRUNK_U280 = ["buffers.a_buf.size_bytes=512", "buffers.b_buf.size_bytes=2048",
               "buffers.global_buf.size_bytes=8192"]


def integer_target(name: str, tmp_path: Path):
    """The preset, with an INT8 datapath added where the preset computes only fp16 (NeuPIMs'
    FP16 NPU and PIM): the same structure running the integer path. Outlier extraction (a
    float CPU side path) is switched off: its float part is not bit-exact by design."""
    raw = yaml.safe_load((preset_dir() / f"{name}.yaml").read_text())
    for unit in raw["units"].values():
        for key in ("macs_per_pe_per_cycle", "ops_per_lane_per_cycle"):
            if key in unit and "int8" not in unit[key]:
                unit[key]["int8"] = unit[key]["fp16"]
        if unit.get("kind") == "pim":
            unit["dtype"] = "int8"
    if "outlier_extraction" in raw.get("mechanisms", {}):
        raw["mechanisms"]["outlier_extraction"] = False
    path = tmp_path / f"{name}-int.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_target(str(path))


def check(model, target, phase, quant, batch=2):
    return fc.functional_check(model, Workload(phase=phase, batch=batch, seq=5, context=8,
                                               quant=quant), target)


def mismatches(result) -> int:
    return sum(v["mismatches"] for v in result["compared"].values())


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_bit_exact_on_every_preset(preset, phase, tmp_path):
    target = integer_target(preset, tmp_path)
    for quant in ("w8a8", "w4a8"):
        result = check("tiny-llama", target, phase, quant)
        assert result["bit_exact"], (quant, result["compared"])
        # logits of both sequences and every cache row appended this step were compared
        tokens = 2 * (5 if phase == "prefill" else 1)
        assert result["compared"]["lm_head"]["elements"] == 2 * 256
        assert result["compared"]["L1.kv_write"]["elements"] == tokens * 2 * 2 * 16


def test_many_tiles_with_k_split_are_bit_exact():
    target = load_target("flightllm-u280", SHRUNK_U280)
    w = Workload(phase="prefill", batch=2, seq=5, context=8, quant="w4a8")
    program = compile_model(load_model("tiny-llama"), w, target, annotate=True).program
    notes = [n for ns in program.metadata["notes"].values() for n in ns if n and "k0" in n]
    assert any(n["k0"] > 0 for n in notes)          # accumulation across K tiles happens
    assert len({n["n0"] for n in notes}) > 1        # several output column tiles
    assert check("tiny-llama", target, "prefill", "w4a8")["bit_exact"]


def test_layernorm_bias_relu_and_learned_positions(monkeypatch):
    """OPT's blocks (untied here: a tied table is refused, see compiler.program_data)."""
    monkeypatch.setattr(fc, "load_model", lambda n: replace(load_model(n), tie_embeddings=False))
    target = load_target("flightllm-u280")
    for phase in ("decode", "prefill"):
        assert check("tiny-opt", target, phase, "w8a8")["bit_exact"]


def test_logits_compared_are_not_trivial():
    ids = fc.seeded_token_ids(256, 10, 0)
    assert len(np.unique(ids)) > 5
    target = load_target("flightllm-u280")
    compiled = compile_model(load_model("tiny-llama"), Workload(phase="prefill", batch=2, seq=5,
                                                                quant="w8a8"), target)
    from compiler.program_data import program_data
    logits = program_data(compiled.graph, ids).reference.values["lm_head"]
    assert len(np.unique(logits)) > 50 and np.abs(logits).max() < 127 + 1


def test_a_wrong_rounding_shift_is_caught(monkeypatch):
    real = mx._requantize

    def off_by_one_shift(opcode, acc, f, note, const):
        if const is not None and note.get("kind") == "matmul" and not const.get("epilogue_fn"):
            cols = slice(note["col0"], note["col0"] + acc.shape[1])
            const = {**const, "shift": np.asarray(const["shift"]).copy()}
            const["shift"][cols] += 1
        return real(opcode, acc, f, note, const)
    monkeypatch.setattr(mx, "_requantize", off_by_one_shift)
    assert mismatches(check("tiny-llama", load_target("flightllm-u280"), "decode", "w8a8")) > 0


def test_ignoring_accumulate_is_caught(monkeypatch):
    real = mx.run_matrix
    monkeypatch.setattr(mx, "run_matrix", lambda mem, f, note, const: real(
        mem, {**f, "accumulate": 0}, note, const))
    target = load_target("flightllm-u280", SHRUNK_U280)
    assert mismatches(check("tiny-llama", target, "prefill", "w8a8")) > 0


def test_dropping_w4a8_group_scales_is_caught(monkeypatch):
    real = mx.weight_tile
    monkeypatch.setattr(mx, "weight_tile", lambda mem, f, note, i, const: real(
        mem, f, note, i, None if const is None else {**const, "group_scale": None}))
    assert mismatches(check("tiny-llama", load_target("flightllm-u280"), "decode", "w4a8")) > 0


@pytest.mark.parametrize("phase", ["decode", "prefill"])
def test_parallel_blocks_are_bit_exact(monkeypatch, phase):
    """phi-2's block shape (attention and MLP read one LayerNorm; partial RoPE; biases) at
    tiny-llama's sizes. Before allocate walked the emitted (schedule) order, the MLP input,
    emitted beside Q/K/V, landed on V's bytes before the cache store read them (issue 18, 7)."""
    phi_like = replace(load_model("tiny-llama"), family="phi", parallel_block=True,
                       norm="layernorm", gated_mlp=False, activation="gelu_tanh",
                       rotary_fraction=0.5, qkv_bias=True, out_bias=True, num_kv_heads=4)
    monkeypatch.setattr(fc, "load_model", lambda n: phi_like)
    result = check("tiny-llama", load_target("flightllm-u280"), phase, "w8a8")
    assert result["bit_exact"], result["compared"]
    assert result["compared"]["L1.kv_write"]["elements"] == \
        2 * (5 if phase == "prefill" else 1) * 2 * 4 * 16
