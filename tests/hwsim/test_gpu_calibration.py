"""The measured H100 data (benchmarks/gpu/h100_measured.json) against bounds worked out by hand
from the datasheet and LLaMA2-7B's shapes, and the h100 preset against that data.

No GPU needed and nothing timed: the measurements are read from the file.
"""
from __future__ import annotations

import json
import pathlib

import pytest

import targets
from compiler.ir.workload import Workload
from hwsim.api.flows.run_model import simulate_model

DATA = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "gpu" / "h100_measured.json"

# H100 SXM datasheet (NVIDIA, 2023): 3.35 TB/s HBM3, 989.4 TFLOP/s bf16/fp16 dense,
# 1,978.9 TOPS fp8/int8 dense.
HBM_BYTES_PER_S = 3.35e12
PEAK_FLOPS = {"bfloat16": 989.4e12, "float16": 989.4e12, "int8": 1978.9e12, "fp8": 1978.9e12}

# LLaMA2-7B by hand (hidden 4096, FFN 11008, 32 layers, vocab 32000, 2-byte weights):
# per layer 4 x 4096^2 (q, k, v, o) + 3 x 4096 x 11008 (gate, up, down) + 2 x 4096 (norms)
LAYER_PARAMS = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096          # 202,383,360
EMBED_PARAMS = 32000 * 4096                                          # 131,072,000
PARAMS = 32 * LAYER_PARAMS + 2 * EMBED_PARAMS + 4096                 # 6,738,415,616
# a decode step reads every weight but the embedding table (one row per token, ignored)
STEP_WEIGHT_BYTES = 2 * (PARAMS - EMBED_PARAMS)                      # 13,214,687,232
KV_BYTES_PER_TOKEN = 2 * 32 * 4096 * 2                               # K and V, 32 layers, 2 B
# prefill FLOPs at least 2 x (decoder-layer weights) per prompt token (logits of the last only)
LINEAR_FLOPS_PER_TOKEN = 2 * 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)

# docs/fidelity.md, "GPU calibration: H100 measured": the h100 preset's batch-1 decode is
# optimistic against the measured optimised path (torch.compile + CUDA graph), by at most this
SIM_OVER_COMPILED_DECODE_MAX = 1.4


@pytest.fixture(scope="module")
def measured():
    return json.loads(DATA.read_text())


def decode_rows(measured):
    for path in ("hf_eager", "lean_eager", "graph", "compiled"):
        for key in ("decode", "batched_decode", "decode_repeat"):
            for row in measured.get(path, {}).get(key, []):
                yield path, row


def test_hand_counted_parameters_match_the_measured_model(measured):
    assert PARAMS == 6_738_415_616
    assert measured["model"]["params"] == PARAMS


def test_the_file_holds_every_path_and_its_provenance(measured):
    assert "H100" in measured["provenance"]["measured_on"]
    for run in measured["provenance"]["runs"]:
        assert run["device_name"] == "NVIDIA H100 80GB HBM3"
    for path in ("hf_eager", "graph", "compiled"):
        assert {r["context"] for r in measured[path]["decode"]} == {128, 512, 1024, 2048}
        assert {r["seq"] for r in measured[path]["prefill"]} == {128, 512, 2048}
        assert {r["batch"] for r in measured[path]["batched_decode"]} >= {8, 32, 64}


def test_tokens_per_s_is_batch_over_step_time(measured):
    for _, row in decode_rows(measured):
        assert row["tokens_per_s"] == pytest.approx(row["batch"] * 1e3 / row["ms_per_step"],
                                                    rel=1e-3)


def test_no_decode_beats_the_hbm_roofline(measured):
    """Step time >= (weights + KV of the cached context) / 3.35 TB/s."""
    for path, row in decode_rows(measured):
        step_bytes = STEP_WEIGHT_BYTES + row["batch"] * row["context"] * KV_BYTES_PER_TOKEN
        roofline_tps = row["batch"] / (step_bytes / HBM_BYTES_PER_S)
        assert row["tokens_per_s"] < roofline_tps, (path, row)


def test_batch1_roofline_by_hand():
    """The simulator's roofline of the measured batch-1 step (h100, LLaMA2-7B decode over 128
    cached tokens) against the hand figure: 13,214,687,232 B of weights + 128 x 524,288 B of
    KV = 13,281,796,096 B at 3.35 TB/s = 3.9647 ms (252.2 tokens/s). The program also moves
    the step's activations and the new K/V rows (< 0.1 %)."""
    from compiler.frontend import load_model
    from compiler.pipeline import compile_model
    from hwsim.roofline import program_roofline
    hand_s = (STEP_WEIGHT_BYTES + 128 * KV_BYTES_PER_TOKEN) / HBM_BYTES_PER_S
    assert 1 / hand_s == pytest.approx(252.2, abs=0.1)
    target = targets.load_target("h100")
    program = compile_model(load_model("llama2-7b"), Workload(phase="decode", context=128),
                            target).program
    r = program_roofline(program, target)
    assert r["bound"] == "memory"
    assert hand_s <= r["roofline_s"] <= hand_s * 1.001


def test_optimised_decode_reaches_a_plausible_share_of_the_roofline(measured):
    """The compiled path streams weights at 2.2-2.4 TB/s: between half the datasheet peak and
    the measured streaming-read rate (a junk or mislabelled file fails one side)."""
    read = measured["kernels"]["hbm"]["read_sum_gb_per_s"] * 1e9
    for row in measured["compiled"]["decode"]:
        achieved = (STEP_WEIGHT_BYTES + row["context"] * KV_BYTES_PER_TOKEN) * \
            row["tokens_per_s"]
        assert 0.5 * HBM_BYTES_PER_S < achieved < read, row


def test_no_prefill_beats_the_compute_roofline(measured):
    for path in ("hf_eager", "lean_eager", "graph", "compiled"):
        for row in measured[path]["prefill"]:
            min_s = LINEAR_FLOPS_PER_TOKEN * row["seq"] / PEAK_FLOPS["bfloat16"]
            assert row["ms"] / 1e3 > min_s, (path, row)


def test_kernels_stay_under_datasheet_peaks(measured):
    k = measured["kernels"]
    for row in k["gemm"]:
        assert row["tflops"] * 1e12 < PEAK_FLOPS[row["dtype"]], row
        assert row["tflops"] == pytest.approx(2 * row["m"] * row["k"] * row["n"]
                                              / (row["ms"] * 1e-3) / 1e12, rel=1e-2)
    for row in k["int8_gemm"]:
        assert row["tflops"] * 1e12 < PEAK_FLOPS["int8"], row
    for row in k["fp8_gemm"]:
        assert row["tflops"] * 1e12 < PEAK_FLOPS["fp8"], row
    assert k["hbm"]["copy_gb_per_s"] * 1e9 < HBM_BYTES_PER_S
    assert k["hbm"]["read_sum_gb_per_s"] * 1e9 < HBM_BYTES_PER_S


def test_preset_efficiencies_come_from_this_file(measured):
    """h100.yaml's two efficiency fields come from this file's kernels, never from decode: the
    bandwidth fraction is the streaming read's; the compute fraction is fitted through the
    simulator to the file's compute-bound fp16 GEMMs (tests/validation/test_h100_gemm_fit.py),
    so it lies above their measured fraction of the peak (the simulator's tile pipeline and
    waves cost the rest) and at most 1."""
    h100 = targets.load_target("h100")
    read = measured["kernels"]["hbm"]["read_sum_gb_per_s"] * 1e9
    assert h100.memories["hbm"].achieved_bandwidth_fraction == round(read / HBM_BYTES_PER_S, 2)
    best_fp16 = max(r["tflops"] for r in measured["kernels"]["gemm"] if r["dtype"] == "float16")
    assert best_fp16 * 1e12 / PEAK_FLOPS["float16"] < \
        h100.units["sm"].compute_efficiency_fraction <= 1.0
    assert "h100_measured.json" in h100.memories["hbm"].source
    assert "h100_measured.json" in h100.units["sm"].source


def test_simulated_decode_is_optimistic_within_the_documented_factor(measured):
    """Batch-1 decode at 512 cached tokens: the preset leaves out per-kernel overheads, so it
    must be faster than the measured optimised path, by no more than the documented factor,
    and never faster than the HBM roofline worked out above."""
    sim = simulate_model("llama2-7b", Workload(phase="decode", batch=1, context=512),
                         targets.load_target("h100"))
    meas = next(r for r in measured["compiled"]["decode"] if r["context"] == 512)
    ratio = sim["tokens_per_s"] / meas["tokens_per_s"]
    assert 1.0 < ratio < SIM_OVER_COMPILED_DECODE_MAX
    roofline_tps = HBM_BYTES_PER_S / (STEP_WEIGHT_BYTES + 512 * KV_BYTES_PER_TOKEN)
    assert sim["tokens_per_s"] < roofline_tps


@pytest.mark.slow
def test_simulated_long_prefill_is_within_the_documented_factor_and_needs_fused_attention(
        measured):
    """2,048-token prefill against the measured compiled path (sdpa = FlashAttention-2): with
    the fused-attention lowering the simulator is within 1.25x either way (docs/fidelity.md:
    1.16x pessimistic); without it, writing the 32 x 2,048^2 scores per layer makes it more
    than 1.5x pessimistic (1.69x documented)."""
    meas = next(r for r in measured["compiled"]["prefill"] if r["seq"] == 2048)["tokens_per_s"]
    ratios = {}
    for fused in (True, False):
        sim = simulate_model("llama2-7b", Workload(phase="prefill", seq=2048),
                             targets.load_target("h100", [f"units.sm.fused_attention={fused}"]))
        ratios[fused] = sim["tokens_per_s"] / meas
    assert 1 / 1.25 < ratios[True] < 1.25
    assert ratios[False] < 1 / 1.5
