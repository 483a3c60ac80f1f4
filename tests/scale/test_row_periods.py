"""Row periods (hwsim.timing.row_periods): repeated stretches of rows inside a layer, timed once.

The reference is the engine without any reuse (layers="off"): every row's start and end must
be the same within float rounding, and the DRAM counts equal, on random attention-like programs
(query blocks of key tiles: LOAD K, LOAD V, MATMUL S, MATMUL PV, SOFTMAX, buffer back-pressure,
a shared unit) and on every preset and phase where the periods are copied. Where a row of every
period differs, or the addresses do not come back to the same channels within 16 LOADs, nothing
is copied."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.memory import DramModel
from hwsim.timing import engine
from tests.scale.test_layer_reuse import _assert_same, _run

LD, ST, MM, VEC = 0, 1, 2, 4
CHUNK_BYTES, CHANNELS = 256, 40  # a100: 40 channels of 256 B chunks, no timing table


def _build(blocks, s_s, pv_s, soft_s, kv_bytes, step_chunks, ahead, vary=0.0, odd=None):
    """Per query block of n tiles: LD a Q load (to MM), then per tile K_k (waits for the VEC
    row `ahead` tiles back: its buffer is free) and V_k, both to MM; MM an init row (waits for
    Q), then S_k (waits K_k, to VEC) and PV_k (waits V_k); VEC softmax_k (waits S_k; frees a
    buffer for K_{k+ahead}; the last one releases ST); ST the block's output. MM and VEC share
    unit 0. K and V move by step_chunks interleave chunks per tile. `vary`: S_k takes k x vary
    more (every tile differs); `odd`: (block, tile) whose S takes twice as long."""
    rows = {q: [] for q in range(6)}  # per queue: (wait, release, service, addr, bytes, write)
    step = step_chunks * CHUNK_BYTES
    for b, n in enumerate(blocks):
        rows[LD].append((0, 1 << MM, 0.0, 1 << 30 | b * 8192, 8192, False))
        rows[MM].append((1 << LD, 0, s_s / 4, 0, 0, False))
        for k in range(n):
            rows[LD].append(((1 << VEC) if k >= ahead else 0, 1 << MM, 0.0,
                             (1 << 28) + k * step, kv_bytes, False))
            rows[LD].append((0, 1 << MM, 0.0, (1 << 29) + k * step, kv_bytes, False))
            s = s_s + k * vary
            rows[MM].append((1 << LD, 1 << VEC, 2 * s if odd == (b, k) else s, 0, 0, False))
            rows[MM].append((1 << LD, 0, pv_s, 0, 0, False))
            frees = (1 << LD) if k < n - ahead else 0
            rows[VEC].append((1 << MM, frees | ((1 << ST) if k == n - 1 else 0), soft_s, 0, 0,
                              False))
        rows[ST].append((1 << VEC, 0, 0.0, 3 << 30 | b * 8192, 8192, True))
    flat = [r for q in range(6) for r in rows[q]]
    wait, release, service, addr, nbytes, write = (np.array(c) for c in zip(*flat))
    queue = np.repeat(np.arange(6), [len(rows[q]) for q in range(6)])
    is_mem = (queue == LD) | (queue == ST)
    memory_rows = {"is_mem": is_mem, "is_write": write.astype(bool), "addr": addr,
                   "rows": is_mem.astype(np.int64), "row_bytes": nbytes,
                   "stride": np.zeros(len(queue), np.int64)}
    queue_start = np.concatenate([[0], np.cumsum([len(rows[q]) for q in range(6)])])
    resource = np.where((queue == MM) | (queue == VEC), 0, -1)
    return (queue_start, wait, release, service, memory_rows), resource


def _times(program, layers):
    args, resource = program
    dram = DramModel(targets.load_target("a100").memories["hbm"])
    start, end, report = engine.run_layers(*args, dram, resource=resource, layers=layers)
    return start, end, report, dram.stats


def _same_as_without_reuse(program):
    n = len(program[0][3])
    start, end, report, stats = _times(program, np.zeros(n, np.int64))  # one layer
    full_start, full_end, off, full_stats = _times(program, "off")
    assert off["rows_reused"] == 0
    np.testing.assert_allclose(start, full_start, rtol=1e-10, atol=1e-18)
    np.testing.assert_allclose(end, full_end, rtol=1e-10, atol=1e-18)
    assert stats == full_stats
    return report


LONG = dict(blocks=[3, 60], s_s=3e-7, pv_s=2e-7, soft_s=1e-7, kv_bytes=16384, step_chunks=64,
            ahead=2)  # 64 chunks per tile: back on the same channels after 5 tiles (10 LOADs)


def test_a_long_query_block_is_copied_period_by_period():
    report = _same_as_without_reuse(_build(**LONG))
    # checkpoints every 10 LD rows (5 tiles: 5 x 64 = 320 chunks = 8 rounds of 40 channels);
    # each copied period is 10 LD + 10 MM + 5 VEC rows
    assert report["rows_reused"] > 0 and report["rows_reused"] % 25 == 0, report
    assert report["row_periods"][0][0] == 0 and report["row_periods_reason"] is None


@pytest.mark.parametrize("change, why", [
    (dict(vary=1e-9), "every tile's S takes longer: no two periods are equal"),
    (dict(step_chunks=1), "1 chunk per tile: back on its channels after 40 tiles, > 16 LOADs"),
])
def test_nothing_is_copied_where_the_rows_do_not_repeat(change, why):
    report = _same_as_without_reuse(_build(**{**LONG, **change}))
    assert report["rows_reused"] == 0, why
    assert report["row_periods"] == [] and report["row_periods_reason"]


def test_a_perturbed_row_is_never_copied_over():
    whole = _same_as_without_reuse(_build(**LONG))["rows_reused"]
    odd = _same_as_without_reuse(_build(**LONG, odd=(1, 30)))["rows_reused"]
    assert 0 < odd < whole  # copies stop before tile 30 and start again after it


def test_timed_dram_says_why_no_rows_are_copied(monkeypatch):
    on = _run(monkeypatch, True, "tiny-llama", "flightllm-u280", phase="prefill", seq=64)
    assert on["reuse"]["rows_reused"] == 0
    assert "timing table" in on["reuse"]["row_periods_reason"]


programs = st.builds(
    _build, blocks=st.lists(st.integers(1, 40), min_size=1, max_size=3),
    s_s=st.floats(1e-8, 1e-6), pv_s=st.floats(1e-8, 1e-6), soft_s=st.floats(1e-8, 1e-6),
    kv_bytes=st.integers(1, 2048).map(lambda k: 32 * k),
    step_chunks=st.sampled_from([8, 40, 64, 80, 5, 1, 16, 0]), ahead=st.integers(1, 3),
    odd=st.none() | st.tuples(st.integers(0, 2), st.integers(0, 39)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(programs)
def test_row_periods_give_the_times_of_the_full_run(program):
    _same_as_without_reuse(program)


# GPU presets (no DRAM timing table): a 4K prefill's longer query blocks, a decode step's
# attention over 4K tokens of context, and generate (its report is its last decode step's)
GPU = ["a100", "a100-80gb", "h100"]
PHASES = [("prefill", dict(seq=4096)), ("decode", dict(context=4096)),
          ("generate", dict(seq=2048, gen=2))]


@pytest.mark.parametrize("preset", GPU)
@pytest.mark.parametrize("phase, workload", PHASES)
def test_row_periods_on_presets_give_the_same_numbers(monkeypatch, preset, phase, workload):
    on = _run(monkeypatch, True, "llama2-7b", preset, phase=phase, layers=3, **workload)
    off = _run(monkeypatch, False, "llama2-7b", preset, phase=phase, layers=3, **workload)
    _assert_same(on, off)
    assert on["reuse"]["rows_reused"] > 0, on["reuse"]
    assert off["reuse"]["rows_reused"] == 0
