"""The flat program arrays: columns read per opcode, on-chip operand extents as flat arrays, and
the buffer traffic and port time summed from them, checked against hand counts."""
import gc

import numpy as np
import pytest

import isa
import targets
from hwsim.api.gc_budget import GEN0_THRESHOLD, fewer_gc_passes
from hwsim.energy import buffer_bytes
from hwsim.program_arrays import flatten
from hwsim.service import _buffer_seconds

U280 = targets.load_target("flightllm-u280")  # buffers: a_buf 0, b_buf 1, global_buf 2, ...


def _program():
    load = isa.Instruction("LOAD", release=["VEC"], buf=1, dtype="int8", sram_addr=0,
                           dram_addr=4096, rows=4, row_bytes=64)
    vadd = isa.Instruction("VADD", wait=["LD"], dtype_in="int16", dtype_out="int8", rows=2,
                           cols=32, src0_buf=1, src0_addr=0, src1_buf=1, src1_addr=256,
                           dst_buf=2, dst_addr=0, count=3)
    return isa.Program.from_instructions("flightllm-u280", [load, vadd])


def test_columns_and_dtypes_are_read_per_opcode():
    a = flatten(_program())
    assert a.opcode.tolist() == [int(isa.Opcode.LOAD), int(isa.Opcode.VADD)]
    assert a.fields["rows"].tolist() == [4, 2]
    assert a.fields["row_bytes"].tolist() == [64, 0]
    assert a.fields["cols"].tolist() == [0, 32]
    assert a.fields["dram_addr"].tolist() == [4096, 0]
    assert a.dtype_in.tolist() == [int(isa.Dtype.INT8), int(isa.Dtype.INT16)]
    assert a.dtype_w.tolist() == a.dtype_in.tolist()
    assert a.wait.tolist() == [0, 1 << int(isa.Queue.LD)]
    assert a.release.tolist() == [1 << int(isa.Queue.VEC), 0]


def test_buffer_bytes_by_hand():
    # LOAD writes 4 x 64 B into b_buf; VADD reads 3 x (2 x 32) int16 twice from b_buf (384 B
    # each) and writes 3 x 64 int8 = 192 B into global_buf
    reads, writes = buffer_bytes(flatten(_program()), len(U280.buffers))
    expected_reads = np.zeros(len(U280.buffers))
    expected_reads[1] = 2 * 3 * 2 * 32 * 2
    expected_writes = np.zeros(len(U280.buffers))
    expected_writes[1], expected_writes[2] = 4 * 64, 3 * 2 * 32
    assert reads.tolist() == expected_reads.tolist()
    assert writes.tolist() == expected_writes.tolist()


def test_port_time_is_the_slowest_buffer_by_hand():
    # per row, bytes per buffer / (width x ports x clock); b_buf 32 B x 2 ports, global_buf
    # 2048 B x 2 ports, both on the core clock
    core_hz = U280.clocks["core"].freq_hz
    got = _buffer_seconds(flatten(_program()), U280)
    b_buf_bw, global_bw = 32 * 2 * core_hz, 2048 * 2 * core_hz
    assert got[0] == pytest.approx(256 / b_buf_bw, rel=1e-15)
    assert got[1] == pytest.approx(max(768 / b_buf_bw, 192 / global_bw), rel=1e-15)


def test_fewer_gc_passes_raises_the_threshold_and_restores_it():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_gc_passes():
            assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
            with fewer_gc_passes():
                assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
            assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(RuntimeError), fewer_gc_passes():
            raise RuntimeError
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
