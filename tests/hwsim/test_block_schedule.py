"""Block scheduling across NPU and CPU (mllm-NPU §3.4): schedules worked out by hand."""
import pytest

from hwsim.timing.block_schedule import Block, in_order, out_of_order


def test_in_order_issue_never_lets_a_later_block_start_first():
    blocks = [Block("A", "npu", 2.0), Block("B", "cpu", 1.0, (0,)), Block("C", "npu", 2.0)]
    s = in_order(blocks)
    # A 0-2; B waits for A: 2-3; C is independent but issues after B started (t=2): 2-4
    assert s.start_s == (0.0, 2.0, 2.0)
    assert s.makespan_s == 4.0


def test_npu_takes_the_shortest_ready_block():
    s = out_of_order([Block("long", "npu", 3.0), Block("short", "npu", 1.0)])
    assert s.start_s == (1.0, 0.0)
    assert s.makespan_s == 4.0


def test_cpu_takes_the_block_that_unlocks_the_most_npu_time():
    blocks = [Block("X", "cpu", 1.0), Block("Y", "cpu", 1.0), Block("P", "npu", 5.0, (1,)),
              Block("Q", "npu", 1.0, (0,))]
    s = out_of_order(blocks)
    # Y unlocks 5 s of NPU work, X 1 s: Y 0-1, X 1-2; P 1-6; Q ready at 2, NPU free at 6: 6-7
    assert s.start_s == (1.0, 0.0, 1.0, 6.0)
    assert s.makespan_s == 7.0
    # in order: X 0-1, Y 1-2, P 2-7, Q 7-8
    assert in_order(blocks).makespan_s == 8.0


def test_two_chunks_pipeline_npu_and_cpu():
    # chunk i: linear on the NPU (2 s), then attention on the CPU (3 s) reading chunks 0..i
    blocks = [Block("N0", "npu", 2.0), Block("A0", "cpu", 3.0, (0,)),
              Block("N1", "npu", 2.0), Block("A1", "cpu", 3.0, (0, 2))]
    s = out_of_order(blocks)
    assert s.end_s == (2.0, 5.0, 4.0, 8.0)
    assert s.busy_s(blocks, "cpu") == 6.0


def test_a_dependency_on_a_later_block_is_refused():
    with pytest.raises(ValueError, match="depends on a block not before it"):
        in_order([Block("A", "npu", 1.0, (1,)), Block("B", "cpu", 1.0)])
