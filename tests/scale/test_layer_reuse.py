"""Layer timing reuse (issue #15 item 1, hwsim.timing.layer_reuse): results equal with reuse on
and off on every preset and phase, reuse fires where the layers repeat, and it refuses where
the start state differs."""
from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

import hwsim
import targets
from hwsim.timing import engine

PRESETS = sorted(p.stem for p in (pathlib.Path(targets.__file__).parent / "presets")
                 .glob("*.yaml"))
# Reuse copies layer j-1's times moved by D = T_j - T_{j-1}; the engine without reuse sums
# layer j's times afresh, and at larger times (coarser floats) its near-ties can round
# differently: measured up to 6e-10 relative on GPT3-175B's 96 layers (1.6e-10 s of 0.27 s).
REL = 1e-8
# K and V of 40 (prefill) or 65 (decode) tokens per layer are whole rounds of interleave chunks
# over the GPU presets' channels (2 x 40 x 4096 x 2 B = 2,560 x 256 B, a multiple of 40 and 32
# channels; 65 tokens: 4,160 chunks), so single layers repeat and reuse fires on them
LLAMA = dict(layers=12, seq=40, context=64, gen=4)


def _numbers(d: dict, prefix=""):
    for k, v in d.items():
        if k == "reuse":
            continue
        if isinstance(v, dict):
            yield from _numbers(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            yield f"{prefix}{k}", v
        else:
            yield f"{prefix}{k}", v


def _run(monkeypatch, reuse: bool, *args, **kwargs) -> dict:
    if reuse:
        monkeypatch.delenv("HWSIM_NO_REUSE", raising=False)
    else:
        monkeypatch.setenv("HWSIM_NO_REUSE", "1")
    return hwsim.simulate(*args, **kwargs).to_dict()


def _assert_same(on: dict, off: dict) -> None:
    a, b = dict(_numbers(on)), dict(_numbers(off))
    assert a.keys() == b.keys()
    for k, v in b.items():
        if k.endswith("cycles"):  # round(seconds x clock): may flip on rounding
            assert abs(a[k] - v) <= 1, k
        elif isinstance(v, float):
            assert math.isclose(a[k], v, rel_tol=REL, abs_tol=1e-300), (k, a[k], v)
        else:
            assert a[k] == v, k


def _timed(preset: str) -> bool:
    target = targets.load_target(preset)
    return target.memories[target.main_memory].timing is not None


# generate = one prefill + decode steps, each covered by its own phase: the fast run keeps it
# on a100 only (the slow tier runs it on every preset)
CASES = [pytest.param(p, ph, marks=[pytest.mark.slow] if ph == "generate" and p != "a100"
                      else []) for p in PRESETS for ph in ("prefill", "decode", "generate")]


@pytest.mark.parametrize("preset, phase", CASES)
def test_reuse_on_and_off_give_the_same_numbers(monkeypatch, preset, phase):
    timed = _timed(preset)
    on = _run(monkeypatch, True, "llama2-7b", preset, phase=phase, **LLAMA)
    off = _run(monkeypatch, False, "llama2-7b", preset, phase=phase, **LLAMA)
    _assert_same(on, off)
    if phase != "generate" and "reuse" in on and not timed:
        assert on["reuse"]["layers_reused"] >= 7, on["reuse"]  # layers 3..9 (by the rule)
    if phase != "generate" and "reuse" in on and timed:
        # the compiler places each layer's weights and KV cache by their sizes, not on whole
        # DRAM row periods, so the bursts of the next layer meet other banks and rows
        # (tests/scale/test_layer_reuse_dram.py has timed-DRAM programs where reuse fires)
        assert "whole number of DRAM row periods" in on["reuse"]["reason"], on["reuse"]
    if "reuse" in off:
        assert off["reuse"]["layers_reused"] == 0
        assert off["reuse"]["reason"].startswith("switched off")


def _kv_group(context: int, d_model: int, channels: int, chunk_bytes: int) -> int:
    """Layers after which the KV cache lands on the same channels again: one layer's K and V
    (context + 1 tokens x d_model x 2 B each) move the addresses by r interleave chunks, which
    come back to a channel after channels / gcd(r, channels) layers."""
    r = (2 * (context + 1) * d_model * 2 // chunk_bytes) % channels
    return channels // math.gcd(r, channels)


def test_reuse_fires_on_llama2_decode_on_a100(monkeypatch):
    on = _run(monkeypatch, True, "llama2-7b", "a100", phase="decode", context=128)
    g = _kv_group(128, 4096, 40, 256)  # a100: 40 channels, 256 B interleave
    assert g == 5
    # layer 0 differs (nothing to prefetch before it), layers 1..31 are identical: 6 groups of
    # 5 (layers 1..30). Checkpoints are the ST queue's group starts; c_1 matches c_0, so group 0
    # (layers 1..5) is copied onto the next ones. The copies stop where a queue's next row
    # would leave the run: LD runs more than a layer ahead of ST, so after group 4 its next
    # rows would lie past layer 31, and group 5 is simulated: groups 1..4 = layers 6..25
    assert on["reuse"]["reused"] == [[1 + g, 1 + 5 * g - 1, 1]]
    assert on["reuse"]["layers_reused"] == 4 * g and on["reuse"]["layers"] == 32


def test_timed_dram_is_not_reused_and_says_why(monkeypatch):
    on = _run(monkeypatch, True, "llama2-7b", "flightllm-u280", phase="decode", **LLAMA)
    assert on["reuse"]["layers_reused"] == 0
    assert "timing table" in on["reuse"]["reason"]
    assert "row_bytes = 393216 bytes" in on["reuse"]["reason"]  # 24 channels x 16 banks x 1 KiB


def _intruder_program(n_layers: int):
    """VEC rows of layers 0..n-1 (1 s each on unit 0), and on MM one row of no layer, issued
    by the host at 2.5 s, that takes unit 0 for 2.5 s: MM wins the tie at 3 s (lower queue),
    so layers run at 0, 1, 2, then 5.5, 6.5, ... By hand."""
    n = n_layers + 1
    queue_start = np.array([0, 0, 0, 1, 1, n, n])  # MM: row 0; VEC: rows 1..n
    service = np.array([2.5] + [1.0] * n_layers)
    not_before = np.array([2.5] + [0.0] * n_layers)
    zeros = np.zeros(n, np.int64)
    memory_rows = {"is_mem": np.zeros(n, bool), "is_write": np.zeros(n, bool), "addr": zeros,
                   "rows": zeros, "row_bytes": zeros, "stride": zeros}
    layers = np.array([-1] + list(range(n_layers)))
    return (queue_start, zeros, zeros, service, memory_rows), not_before, layers


def _timed_run(n_layers: int, reuse: bool):
    args, not_before, layers = _intruder_program(n_layers)
    dram = hwsim.memory.DramModel(targets.load_target("a100").memories["hbm"])
    return engine.run_layers(*args, dram, resource=np.zeros(len(layers), np.int64),
                             not_before=not_before, layers=layers if reuse else "off")


def test_reuse_refuses_while_the_state_differs_and_fires_after():
    start, end, report = _timed_run(8, True)
    expected = [0, 1, 2] + [5.5 + k for k in range(5)]
    assert start[1:].tolist() == expected and start[0] == 3.0
    # c_1 and c_2 see the intruder still to come (its host-issue bound differs moved by one
    # layer), c_3 the queue MM one row further: layers 4..7 repeat layer 3 (c_4 vs c_3)
    assert report["reused"] == [[4, 7, 3]]
    off_start, off_end, off = _timed_run(8, False)
    assert off["layers_reused"] == 0
    np.testing.assert_array_equal(start, off_start)
    np.testing.assert_array_equal(end, off_end)


def test_reuse_refuses_when_only_differing_boundaries_remain():
    start, _, report = _timed_run(4, True)
    assert start[1:].tolist() == [0, 1, 2, 5.5]
    assert report["layers_reused"] == 0
    assert report["reason"].startswith("start state differs")


def test_layers_numbered_from_a_pipeline_stage_are_reported_as_numbered():
    args, not_before, layers = _intruder_program(8)
    layers = np.where(layers >= 0, layers + 16, -1)  # layers 16..23 of a stage
    dram = hwsim.memory.DramModel(targets.load_target("a100").memories["hbm"])
    _, _, report = engine.run_layers(*args, dram, resource=np.zeros(len(layers), np.int64),
                                     not_before=not_before, layers=layers)
    assert report["reused"] == [[20, 23, 19]] and report["layers"] == 8
