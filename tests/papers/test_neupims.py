"""NeuPIMs (C4-C6): the blocked-PIM engine rule, the overlapped systolic fold, sub-batch
interleaving, and the claims with their ablations. Expected values are worked by hand."""
import numpy as np
import pytest

from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from compiler.sub_batch import compile_step
from compiler.tensor_parallel import device_share
from hwsim.api.papers import neupims
from hwsim.api.papers.claim import ablation_removes_half, within
from hwsim.api.papers.runner import Runner
from hwsim.memory import DramModel
from hwsim.simulate import simulate_program
from hwsim.timing import engine
from hwsim.unit_models import systolic_cycles
from targets import load_target
from targets.memory import OffChipMemory

LD, MV = 0, 3


def _memory():
    return DramModel(OffChipMemory(type="HBM2", capacity_bytes=1 << 20, bandwidth_bytes_per_s=1.0,
                                   channels=1, banks_per_channel=1, row_bytes=1024,
                                   burst_bytes=1, channel_interleave_bytes=1, latency_s=1e-30,
                                   row_buffer_policy="open", source="test memory"))


@pytest.mark.parametrize("blocked, expected_end", [(False, [2.0, 3.0]), (True, [2.0, 5.0])])
def test_blocked_pim_serialises_loads_and_pim(blocked, expected_end):
    # an LD of 2 B at 1 B/s (0-2 s) and an independent PIM GEMV of 3 s: with dual row buffers
    # they overlap (PIM 0-3 s); blocked, the PIM waits for the LD (2-5 s)
    queue_start = np.array([0, 1, 1, 1, 2, 2, 2])
    mem = {"is_mem": np.array([True, False]), "is_write": np.array([False, False]),
           "addr": np.array([0, 0]), "rows": np.array([1, 0]), "row_bytes": np.array([2, 0]),
           "stride": np.array([0, 0])}
    side = np.array([1, 2]) if blocked else None
    _, end = engine.run(queue_start, np.zeros(2, int), np.zeros(2, int), np.array([0.0, 3.0]),
                        mem, _memory(), np.array([-1, 0]), side)
    assert end.tolist() == pytest.approx(expected_end)


def test_overlapped_folds_by_hand():
    # 8x8 array, m = 4 rows, k = 8, n = 24: 3 folds on one array. Exposed: 3 x (16 + 8 + 4 - 2)
    # = 78 cycles; overlapped: first fold 26, then 2 x max(4, 8) = 16 -> 42; one fold: 26 either way
    assert systolic_cycles(4, 24, 8, 1, 8, 8, 1) == 78
    assert systolic_cycles(4, 24, 8, 1, 8, 8, 1, preload_overlap=True) == 42
    assert systolic_cycles(4, 8, 8, 1, 8, 8, 1, preload_overlap=True) == 26
    # m = 20 > rows: each later fold is bound by its 20-row stream: 42 + 2 x 20 = 82
    assert systolic_cycles(20, 24, 8, 1, 8, 8, 1, preload_overlap=True) == 42 + 40


def test_interleaved_program_overlaps_the_two_sub_batches():
    model = load_model("tiny-opt")
    target = load_target("neupims", ["mechanisms.sub_batch_min_batch=8"])
    work = Workload(phase="decode", batch=8, context=64)
    merged = compile_step(model, work, target).program
    half = [compile_model(model, Workload(phase="decode", batch=4, context=64), target).program
            for _ in range(2)]
    # same instructions as the two sub-batch programs (the merge only reorders them)
    for q, n in merged.counts_per_queue().items():
        assert n == sum(p.counts_per_queue()[q] for p in half)
    assert merged.metadata["sub_batches"] == [4, 4]
    seconds = simulate_program(merged, target, 8)["seconds"]
    alone = simulate_program(half[0], target, 4)["seconds"]
    assert alone < seconds < 2 * alone  # the sub-batches overlap, neither is free


def test_interleaving_off_compiles_one_batch():
    target = load_target("neupims", ["mechanisms.sub_batch_interleaving=false"])
    program = compile_step(load_model("tiny-opt"), Workload(phase="decode", batch=8,
                                                            context=64), target).program
    assert "sub_batches" not in program.metadata


@pytest.mark.parametrize("batch, split", [(254, False), (256, True)])
def test_interleaving_only_from_the_artifacts_batch_256(batch, split):
    # the preset's sub_batch_min_batch is 256 (NeuPIMs README): 254 stays one batch, 256 splits
    # into 128 + 128
    program = compile_step(load_model("tiny-opt"), Workload(phase="decode", batch=batch,
                                                            context=8),
                           load_target("neupims")).program
    assert program.metadata.get("sub_batches") == ([128, 128] if split else None)


def test_tensor_parallel_share_by_hand():
    # GPT3-7B at TP 4: 32 / 4 = 8 heads of 128, FFN 16,384 / 4 = 4,096, vocab 50,257 -> 12,565;
    # per layer QKV 4,096 x 3 x 1,024 + out 1,024 x 4,096 + FFN 2 x 4,096 x 4,096 = 50,331,648
    # weights, a quarter of the full layer's 12 x 4,096^2 = 201,326,592
    share = device_share(load_model("gpt3-7b"), 4)
    assert (share.num_heads, share.num_kv_heads, share.head_dim) == (8, 8, 128)
    assert (share.hidden_size, share.intermediate_size, share.vocab_size) == (4096, 4096, 12565)
    per_layer = share.hidden_size * 3 * share.num_heads * share.head_dim + \
        share.num_heads * share.head_dim * share.hidden_size + \
        2 * share.hidden_size * share.intermediate_size
    assert per_layer == 50_331_648 == 12 * 4096 ** 2 // 4


@pytest.fixture(scope="module")
def runner():
    return Runner()


@pytest.fixture(scope="module")
def rows(runner):
    return {c.id: (c, c.measure(runner)) for c in neupims.CLAIMS}


def test_c5_within_tolerance_and_its_ablation_removes_the_gain(rows):
    claim, m = rows["C5"]
    assert within(claim, m), m.value
    assert ablation_removes_half(m) is True
    assert m.ablated == pytest.approx(1.0)


def test_each_claim_reports_live_throughputs(rows):
    for claim, m in rows.values():
        tps = m.details["tokens_per_s"]
        assert set(tps) == {"256", "512"}
        for b, per_system in tps.items():
            assert all(v > 0 for v in per_system.values())
        assert m.value > 0 and m.ablated > 0


def test_c6_within_tolerance_and_its_ablation_removes_the_gain(rows):
    claim, m = rows["C6"]
    assert within(claim, m), m.value
    assert ablation_removes_half(m) is True
    # the ablation switches off only what PAPERS.md credits (dual row buffers + sub-batch
    # interleaving): NeuPIMs' PIM_GEMV command and load balancing keep part of the gain
    assert m.details["ablated_system"] == "neupims_c6_credited_off"
    assert 1.0 < m.ablated < m.value


def test_c4_is_reported_as_not_reproduced_with_a_reason(rows):
    claim, m = rows["C4"]
    assert not within(claim, m)
    assert claim.reason_if_missed


def test_paper_order_npu_only_naive_neupims_at_each_batch(runner):
    for batch in neupims.BATCHES:
        tps = {s: neupims.throughput(runner, s, batch) for s in ("npu_only", "naive", "neupims")}
        assert tps["npu_only"] < tps["naive"] < tps["neupims"], (batch, tps)


def test_paper_order_gpu_npu_only_naive_neupims(runner, rows):
    # holds since issue 14's A100 GEMM refit (compute_efficiency_fraction 0.97 -> 0.92, the
    # MAMF calibration row timed without its input gather): GPU-only's batch-256 / 512 decode,
    # partly compute-bound, is 1.9 % slower and falls just under NPU-only (by 0.5 % and 0.3 %:
    # a thin margin, not the paper's 1.25x; docs/papers/neupims.md). Was a strict xfail: the
    # A100 at 1,555 GB/s x 0.83 outran NPU-only's 1,024 GB/s on the memory-bound part
    rel = neupims.order(runner)
    assert rel["gpu_only"] < rel["npu_only"] < rel["naive"] < rel["neupims"]


def test_gpu_only_runs_no_stack_cost_until_the_40gb_card_has_a_calibrated_one():
    # issue 14: the paper's GPU-only is eager PyTorch on an A100 40 GB (SETUPS.md); a baseline
    # gets a runtime.stack only where the validation table calibrates one on that card. The
    # `a100` preset's `runtime:` section carries the a100-80gb / h100 costs over (validated, not
    # calibrated, by hwsim/validation/a100_40gb.yaml's vLLM CUDA-graph rows) and selects stack
    # `none`, so C4 runs the plain roofline; when the 40 GB card gets a calibrated eager cost
    # or a default stack, this fails and C4's baseline (and the order xfail above) must be revisited
    import targets
    assert targets.load_target("a100").runtime.stack == "none"
    assert all(row.use == "validation" for row in _validation_rows_on("a100"))
    assert neupims.SYSTEMS["gpu_only"] == ("a100", ())


def _validation_rows_on(target: str):
    from hwsim.validation import load_rows
    return [row for row in load_rows() if row.target == target]
