"""mllm-NPU (C7-C10): the prefill block model against hand arithmetic, each mechanism's
effect, and the claims' JSON with their ablations."""
import json

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from hwsim.api.flows import mobile_prefill
from hwsim.api.papers import mllm_npu
from hwsim.api.papers.evaluate import evaluate
from hwsim.api.papers.runner import Runner

TARGET = "mllm-npu-sd8gen3"
# Arm optimisation guides (the preset's sources): INT8 MACs per cycle x cores x clock, 4 clusters
CPU_INT8_PEAK = 64 * 3.3e9 + 3 * 32 * 3.2e9 + 2 * 32 * 3.0e9 + 2 * 16 * 2.3e9   # 784 GMAC/s
CPU_EFFICIENCY = 5839.5e6 / 62.8e-3 / CPU_INT8_PEAK   # llm.npu §2.2: 6 GEMMs' MACs / CPU ms


def _prefill(model, seq, sets=(), layers=None):
    target = targets.load_target(TARGET, list(sets))
    return mobile_prefill.simulate(load_model(model), Workload(phase="prefill", seq=seq,
                                                               layers=layers), target)


def test_cpu_baseline_is_macs_over_the_measured_cpu_rate():
    r = _prefill("qwen1.5-1.8b", 64, ["mechanisms.prefill_engine=cpu"], layers=1)
    h, inter, rows = 2048, 5504, 64
    linear_macs = rows * (h * 3 * h + h * h + h * 2 * inter + inter * h)
    attention_macs = 2 * 16 * rows * rows * 128
    other_ops = 2 * (2 * rows * h + rows * h) + 3 * 16 * rows * rows + 2 * rows * 2 * h \
        + 2 * rows * inter
    rate = CPU_INT8_PEAK * 0.1186
    # the prompt's embedding rows (fp16 table) stream at the 76.8 GB/s LPDDR5X peak; the LM
    # head (last token, 2048 x 151936 INT8 weights) streams slower than it computes; its
    # final norm is 2 passes over one row in fp16
    vocab, dram_bw = 151936, 76.8e9
    embed_bytes, head_bytes = rows * h * 2, h * vocab
    head_s = max(h * vocab / rate, head_bytes / dram_bw) + 2 * h / (rate / 2)
    expected_s = linear_macs / rate + (attention_macs + other_ops) / (rate / 2) + \
        embed_bytes / dram_bw + head_s   # fp16: half the INT8 rate
    assert r["seconds"] == pytest.approx(expected_s, rel=1e-9)
    assert CPU_EFFICIENCY == pytest.approx(0.1186, rel=1e-3)
    compute_j = (linear_macs * 4.7 + attention_macs * 10.3 + other_ops * 9.1
                 + h * vocab * 4.7 + 2 * h * 9.1) * 1e-12
    assert r["energy_breakdown_j"]["compute"] == pytest.approx(compute_j, rel=1e-9)
    weight_bytes = h * 3 * h + h * h + h * 2 * inter + inter * h
    assert r["energy_breakdown_j"]["dram"] == pytest.approx(
        (weight_bytes + embed_bytes + head_bytes) * 48.8e-12, rel=1e-9)


def test_chunks_are_fixed_size_and_the_last_is_padded():
    r = _prefill("qwen1.5-1.8b", 300, layers=1)["mobile_prefill"]
    assert (r["chunks"], r["chunk_tokens"], r["padded_tokens"]) == (2, 256, 212)
    off = _prefill("qwen1.5-1.8b", 300, ["mechanisms.chunked_prefill=false"], layers=1)
    assert (off["mobile_prefill"]["chunks"], off["mobile_prefill"]["chunk_tokens"]) == (1, 300)


@pytest.mark.parametrize("mechanism", ["chunked_prefill", "outlier_extraction",
                                       "out_of_order_scheduling"])
def test_each_mechanism_off_slows_prefill(mechanism):
    on = _prefill("qwen1.5-1.8b", 1024, layers=4)
    off = _prefill("qwen1.5-1.8b", 1024, [f"mechanisms.{mechanism}=false"], layers=4)
    assert off["seconds"] > on["seconds"] * 1.05


def test_npu_weight_stream_bounds_the_npu_busy_time():
    # every NPU linear streams its INT8 weights at >= the measured 12.66 GB/s, plus one graph
    # execute (0.355 ms) per graph: with 2 layers and no outlier layer (floor(2 x 0.15) = 0),
    # a chunk runs QKV(L0), [post(L0) + QKV(L1)], post(L1) = 3 graphs
    r = _prefill("qwen1.5-1.8b", 512, layers=2)
    weights = 2048 * 6144 + 2048 * 2048 + 2048 * 11008 + 5504 * 2048
    floor_s = 2 * (2 * weights / 12.66e9 + 3 * 0.355e-3)
    assert r["mobile_prefill"]["busy_s"]["npu"] >= floor_s


def test_outlier_handling_is_kept_on_15_percent_of_the_layers():
    # 24 layers x 0.15: floor((l + 1) 0.15) steps up at l = 6 (1.05), 13 (2.1), 19 (3.0)
    assert [l for l in range(24) if mobile_prefill.shadowed(l, 0.15)] == [6, 13, 19]
    assert all(mobile_prefill.shadowed(l, 1.0) for l in range(24))


def test_subgraphs_follow_the_authors_placement():
    # Qwen1.5-1.8B, one 256-token chunk: 24 NPU graphs (each opens a layer with its QKV) plus
    # a separate O+MLP graph for the 3 outlier layers and the last one = 28; CPU: 24 attention
    # blocks, 3 shadows, an input norm for layer 0 and after each outlier layer, and the LM
    # head (the authors' separate CPU net for the last token) = 32
    r = _prefill("qwen1.5-1.8b", 256)
    assert r["instructions"]["subgraphs"] == 28 + 32
    off = _prefill("qwen1.5-1.8b", 256, ["mechanisms.outlier_extraction=false"])
    assert off["instructions"]["subgraphs"] == (24 + 1) + (24 + 1 + 1)


@pytest.fixture(scope="module")
def rows():
    runner = Runner()
    return {c.id: evaluate(c, runner) for c in mllm_npu.CLAIMS}


def test_every_claim_is_measured_with_its_ablation(rows):
    assert sorted(rows) == ["C10", "C7", "C8", "C9"]
    for row in rows.values():
        assert row["simulated"] > 0 and row["ablated"] is not None
        assert row["within_tolerance"] or row["reason"], row["id"]
        json.dumps(row)  # serialisable


def test_switching_the_mechanisms_off_removes_half_the_speedup(rows):
    for claim in ("C7", "C9"):
        gain, left = rows[claim]["simulated"] - 1, rows[claim]["ablated"] - 1
        assert left <= 0.5 * gain, claim
    assert rows["C10"]["ablated"] <= 0.5 * rows["C10"]["simulated"]


def test_papers_json_is_byte_identical(hwsim):
    a = hwsim("papers", "--json", "--only", "C10")
    b = hwsim("papers", "--json", "--only", "C10")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert json.loads(a.stdout)["claims"][0]["id"] == "C10"
