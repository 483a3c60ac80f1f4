"""Cross-channel activation loads on FlightLLM (hwsim.timing.cross_channel): which ranges the
compiler lists, the closed-form time of their loads, and that nothing else moves.

Hand figures: tiny-llama is hidden 64, intermediate 128, 4 query heads, 2 layers; activations
are INT8 (1 byte). Decode at context 8 attends over 9 positions. The U280 preset's HBM is
460 GB/s over 32 pseudo-channels = 14.375 GB/s per channel; the artifact's cross-channel
efficiency is 0.35, so a cross-channel load moves 14.375e9 x 0.35 = 5.03125e9 bytes/s, after
the preset's access latency of 31.1 ns ((tRCD + CL) x tCK = 28 x 1.111 ns).
"""
import dataclasses

import numpy as np
import pytest

import isa
import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.simulate import simulate_program
from isa import Queue

OFF = "mechanisms.always_on_chip_decode=false"
NO_FIELD = "memories.hbm.cross_channel_efficiency_fraction=null"
CROSS_BYTES_PER_S = 14.375e9 * 0.35
LATENCY_S = 31.1e-9


def _run(overrides, phase="decode", **kw):
    target = targets.load_target("flightllm-u280", overrides)
    compiled = compile_model(load_model("tiny-llama"), Workload(phase=phase, **kw), target)
    return compiled.program, target, simulate_program(compiled.program, target, 1)


def _in_ranges(program, result):
    a = result["_detail"]["arrays"]
    addr = a.fields["dram_addr"]
    hit = np.zeros(len(a), np.bool_)
    for start, size in program.metadata.get("cross_channel_ranges", []):
        hit |= (a.queue == int(Queue.LD)) & (addr >= start) & (addr < start + size)
    return a, hit


def test_off_chip_decode_lists_every_gemv_input_once():
    program, _, _ = _run([OFF], context=8)
    sizes = [size for _, size in program.metadata["cross_channel_ranges"]]
    # per layer: attention norm out (read by q, k, v), attention out (o_proj), MLP norm out
    # (gate, up), silu(gate) x up (down); then the final norm out (lm_head). The attention
    # products have 2 rows (4 query heads over 2 KV heads): one packed MM pass beats two MV
    # rows, so rotated q and the softmax probabilities are not GEMV inputs
    assert sizes == [64, 64, 64, 128] * 2 + [64]


def test_gemv_input_loads_take_bytes_over_one_channel_at_0_35():
    program, _, r = _run([OFF], context=8)
    a, hit = _in_ranges(program, r)
    # each listed input is loaded once (an activation slot keeps it for the next reader:
    # q, k and v share the attention norm's output, gate and up the MLP norm's), plus lm_head:
    # 2 x 4 + 1
    assert int(hit.sum()) == 9
    moved = (a.fields["rows"] * a.fields["row_bytes"])[hit]
    assert sorted(moved.tolist()) == sorted([64, 64, 64, 128] * 2 + [64])
    duration = (r["_detail"]["end"] - r["_detail"]["start"])[hit]
    np.testing.assert_allclose(duration, moved / CROSS_BYTES_PER_S + LATENCY_S, rtol=1e-12)
    assert duration[moved == 64][0] == pytest.approx(12.72e-9 + 31.1e-9, rel=1e-3)


def test_efficiency_scales_the_load_time():
    program, _, r = _run([OFF, "memories.hbm.cross_channel_efficiency_fraction=0.7"], context=8)
    a, hit = _in_ranges(program, r)
    moved = (a.fields["rows"] * a.fields["row_bytes"])[hit]
    duration = (r["_detail"]["end"] - r["_detail"]["start"])[hit]
    np.testing.assert_allclose(duration, moved / (14.375e9 * 0.7) + LATENCY_S, rtol=1e-12)


def test_without_the_field_or_the_ranges_the_bank_model_times_everything():
    program, target, with_ranges = _run([OFF], context=8)
    old_program, _, old = _run([OFF, NO_FIELD], context=8)
    assert "cross_channel_ranges" not in old_program.metadata
    assert [i.fields for q in Queue for i in old_program.streams[q]] == \
        [i.fields for q in Queue for i in program.streams[q]]
    stripped = dataclasses.replace(program, metadata={
        k: v for k, v in program.metadata.items() if k != "cross_channel_ranges"})
    again = simulate_program(stripped, target, 1)
    assert again["seconds"] == old["seconds"]
    np.testing.assert_array_equal(again["_detail"]["end"], old["_detail"]["end"])
    assert with_ranges["seconds"] > old["seconds"]


def test_the_bytes_still_count_as_dram_traffic():
    _, _, r = _run([OFF], context=8)
    _, _, old = _run([OFF, NO_FIELD], context=8)
    assert r["bytes"]["dram_read"] == old["bytes"]["dram_read"]
    assert r["bytes"]["dram_write"] == old["bytes"]["dram_write"]


def test_always_on_chip_decode_lists_nothing_and_times_as_before():
    program, _, r = _run([], context=8)
    _, _, old = _run([NO_FIELD], context=8)
    assert "cross_channel_ranges" not in program.metadata
    np.testing.assert_array_equal(r["_detail"]["end"], old["_detail"]["end"])


def test_prefill_matrix_inputs_are_not_cross_channel():
    # MM-mode layers load their activations over the core's own channels (artifact
    # IR_linear_mm.py, LD_cross_hbm_channel False for the A buffer): only the input of the
    # lm_head GEMV on the last token is listed, the final norm out of all 16 x 64 B
    program, _, _ = _run([OFF], phase="prefill", seq=16)
    assert [size for _, size in program.metadata.get("cross_channel_ranges", [])] == [16 * 64]


def test_hwx_round_trip_keeps_the_ranges():
    program, target, r = _run([OFF], context=8)
    back = isa.container.from_bytes(isa.container.to_bytes(program))
    assert back.metadata["cross_channel_ranges"] == program.metadata["cross_channel_ranges"]
    assert simulate_program(back, target, 1)["seconds"] == r["seconds"]
