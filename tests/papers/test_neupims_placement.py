"""NeuPIMs request-to-channel placement (compiler.pim_placement) and the engine's overlapping
channel-local rows (hwsim.timing.pim_channels). Expected values are worked by hand."""
import numpy as np
import pytest

from compiler import pim_placement
from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.sub_batch import compile_step
from hwsim.memory import DramModel
from hwsim.timing import engine
from isa import Opcode, Queue
from targets import load_target
from targets.memory import OffChipMemory


def test_round_robin_and_least_loaded_by_hand():
    # 2 channels, requests of 3, 2, 2 cached tokens (work 4, 3, 3 with the new token).
    # Round robin: ch0 <- r0, r2 (4 + 3 = 7), ch1 <- r1 (3): busiest 7.
    # Least loaded, longest first: r0 -> ch0 (4); r1 -> ch1 (3); r2 -> ch1 (3 < 4): 6.
    assert pim_placement.channels_of([3, 2, 2], 2, balanced=False) == [0, 1, 0]
    assert pim_placement.channels_of([3, 2, 2], 2, balanced=True) == [0, 1, 1]


def test_sub_batches_take_half_of_each_channel():
    # ch0 holds r0, r2 -> one each; ch1 holds r1 alone: the odd one goes to sub-batch 0 first
    assert pim_placement.split_by_channel([0, 1, 0], 2) == ([0, 1], [2])
    # two odd channels alternate: ch0 [r0] -> sub-batch 0, ch1 [r1] -> sub-batch 1
    assert pim_placement.split_by_channel([0, 1], 2) == ([0], [1])


def _memory():
    return DramModel(OffChipMemory(type="HBM2", capacity_bytes=1 << 20, bandwidth_bytes_per_s=1.0,
                                   channels=1, banks_per_channel=1, row_bytes=1024,
                                   burst_bytes=1, channel_interleave_bytes=1, latency_s=1e-30,
                                   row_buffer_policy="open", source="test memory"))


@pytest.mark.parametrize("overlap, expected_end", [(None, [3.0, 5.0, 6.0]),
                                                   ([True, True, False], [3.0, 2.0, 4.0])])
def test_channel_local_rows_overlap_in_their_queue(overlap, expected_end):
    # three MV rows: 3 s on channel 0, 2 s on channel 1, then a 1 s row on channel 0.
    # In order they end at 3, 5, 6. Overlapping, the first two run side by side (0-3, 0-2) and
    # the third, not overlapping, waits for both to end: 3-4.
    queue_start = np.array([0, 0, 0, 0, 3, 3, 3])
    zeros = np.zeros(3, int)
    mem = {"is_mem": np.zeros(3, bool), "is_write": np.zeros(3, bool), "addr": zeros,
           "rows": zeros, "row_bytes": zeros, "stride": zeros}
    _, end = engine.run(queue_start, zeros, zeros, np.array([3.0, 2.0, 1.0]), mem, _memory(),
                        np.array([0, 1, 0]), None, None,
                        None if overlap is None else np.array(overlap))
    assert end.tolist() == pytest.approx(expected_end)


def test_per_request_lengths_set_each_pim_gemv():
    # tiny-opt decode of 2 sequences with 5 and 9 cached tokens: their score GEMVs span 6 and
    # 10 positions, their context GEMVs reduce over 6 and 10
    target = load_target("neupims", ["mechanisms.pim_channel_placement=true"])
    work = Workload(phase="decode", batch=2, context=9, contexts=(5, 9), layers=1)
    program = compile_step(load_model("tiny-opt"), work, target).program
    pim = [i.fields for i in program.streams[Queue.MV] if i.opcode == Opcode.PIM_GEMV]
    assert sorted({f["n"] for f in pim if f["wgt_transposed"]}) == [6, 10]
    assert sorted({f["k"] for f in pim if not f["wgt_transposed"]}) == [6, 10]
    # longest first: r1 -> channel 0, r0 -> channel 1; the program visits the channels in turn,
    # so its first request is r1 (score GEMVs of 10 positions first) and the map reads [0, 1]
    assert [f["n"] for f in pim if f["wgt_transposed"]][:1] == [10]
    regions = program.metadata["pim_channels"]["regions"]
    assert [r[2] for r in regions] == [[0, 1]] * len(regions)


def test_interleaved_visits_the_channels_in_turn():
    # channels of r0..r4: 0, 0, 1, 0, 1 -> queues ch0 [0, 1, 3], ch1 [2, 4] -> 0, 2, 1, 4, 3
    assert pim_placement.interleaved([0, 1, 2, 3, 4], [0, 0, 1, 0, 1], 2) == [0, 2, 1, 4, 3]


def test_pim_output_slots_only_with_placement():
    # placement on: 2 x 32 channels = 64 pim_output slots in the second half of the output
    # slots' half of acc_spad (137,439,232 B): resident 68,719,616, slots' half 68,719,616,
    # pim half 34,359,808 -> 64 slots of 536,872 B (64 B aligned: 536,832)
    from compiler.buffer_plan import plan_buffers
    work = Workload(phase="decode", batch=2, context=9)
    on = load_target("neupims", ["mechanisms.pim_channel_placement=true"])
    off = load_target("neupims", ["mechanisms.pim_channel_placement=false"])
    assert pim_placement.output_slots(on, work) == 64
    assert pim_placement.output_slots(off, work) == 0
    plan = plan_buffers(on, 64)
    pim = plan.slots["pim_output"]
    assert len(pim) == 64 and pim[0].size_bytes == 536_832
    assert plan.slot_bytes("output") == 34_359_808 // 2
    assert pim[0].offset == 68_719_616 + 34_359_808
    assert plan_buffers(off) == plan_buffers(off, 0) and "pim_output" not in plan_buffers(off).slots


def test_contexts_must_match_the_batch_and_the_longest():
    with pytest.raises(CompilerError):
        Workload(phase="decode", batch=2, context=9, contexts=(5,))
    with pytest.raises(CompilerError):
        Workload(phase="decode", batch=2, context=8, contexts=(5, 9))


def test_pim_energy_of_a_channel_local_gemv_by_hand():
    # one GEMV, m 1, n 10, k 64, count 1 (640 elements) on the neupims preset (32 x 32 banks,
    # 16 multipliers, 1,024 B rows; GWRITE 12,864, grouped ACT 3,312, DOT 3,216 pJ).
    # All channels: 1 element row per bank -> 32 GWRITEs 411,648 + 8 ACT x 32 = 847,872 +
    # 32 DOT 102,912 + one result readout per channel (1 output per bank) 32 x 804 = 25,728
    # = 1,388,160 pJ. One channel: 20 per bank (40 B, one row) -> 1 GWRITE 12,864 + 8 ACT
    # 26,496 + ceil(20 / 16) = 2 DOT 6,432 + 1 readout 804 = 46,596 pJ
    from types import SimpleNamespace
    from hwsim.energy import pim_energy
    one = np.ones(1, np.int64)
    a = SimpleNamespace(opcode=np.array([int(Opcode.PIM_GEMV)]),
                        fields={"m": one, "n": 10 * one, "k": 64 * one, "count": one})
    target = load_target("neupims")
    assert pim_energy(a, target) == pytest.approx(1_388_160e-12)
    assert pim_energy(a, target, np.array([-1])) == pytest.approx(1_388_160e-12)
    assert pim_energy(a, target, np.array([5])) == pytest.approx(46_596e-12)
    # one row buffer (the naive baseline): the GWRITE's bank reopens its row, one bank ACT of
    # 3,312 / 4 = 828 pJ per GWRITE per channel: 46,596 + 828 = 47,424 pJ on one channel
    single = load_target("neupims", ["mechanisms.dual_row_buffers=false"])
    assert pim_energy(a, single, np.array([5])) == pytest.approx(47_424e-12)
