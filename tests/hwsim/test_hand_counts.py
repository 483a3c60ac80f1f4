"""Counts a one-instruction program makes, worked out by hand: the tests that catch the bugs
issue 18 planted and no test saw (LAYERNORM's pass count, SRAM reads by stores counted as
writes, the GPU compute efficiency dropped from the roofline)."""
import pytest

import isa
import targets
from hwsim.roofline import program_roofline
from hwsim.simulate import simulate_program
from tests.cli.sample_program import SAMPLE_ASM


def _program(target, asm: str):
    p = isa.assemble(f".target {target.name}\n" + asm, "hand")
    program = isa.Program(target.name, target.fingerprint(), p.streams)
    isa.verify(program, target.isa_resources())
    return program


def test_layernorm_makes_three_passes_mean_variance_normalise():
    # U280 SFU: 3 cores x 16 lanes, 1 fp16 op per lane per cycle; the global buffer (buf 2)
    # is 2 x 2,048 B a cycle wide, so the ports never bound this instruction
    t = targets.load_target("flightllm-u280")
    program = _program(t, "LAYERNORM dtype_in=fp16 dtype_out=fp16 rows=1 cols=4096 src0_buf=2 "
                          "src1_buf=2 src1_addr=0x4000 dst_buf=2 dst_addr=0x10000 count=1\n")
    r = simulate_program(program, t, 1)
    cycles = 3 * -(-4096 // 48) + 3   # 3 passes of ceil(4096 / 48) cycles, 1 fill each
    assert r["seconds"] == pytest.approx(cycles / t.clocks["core"].freq_hz, rel=1e-12)
    # every pass streams every element: 3 x 4,096 fp16 vector ops at 1.1 pJ (preset table)
    assert r["energy_breakdown_j"]["compute"] == pytest.approx(3 * 4096 * 1.1e-12, rel=1e-12)


def test_sram_bytes_follow_the_operand_role_a_store_reads():
    # the sample GEMV tile: LOAD 16 B (b_buf) and 2,048 B (a_buf); GEMV reads both and writes
    # 128 int32 = 512 B (global_buf); REQUANT reads those 512 B and writes 128 B; STORE reads
    # the 128 B. global_buf: written 512 + 128 = 640 B, read 512 + 128 = 640 B.
    t = targets.load_target("flightllm-u280", [
        "energy.buffers.global_buf.read_pj_per_byte=1.0",
        "energy.buffers.global_buf.write_pj_per_byte=10.0"])
    r = simulate_program(_program(t, SAMPLE_ASM.split("\n", 1)[1]), t, 1)
    b = r["bytes"]
    assert (b["global_buf_read"], b["global_buf_write"]) == (640, 640)
    assert (b["a_buf_read"], b["a_buf_write"]) == (2048, 2048)
    assert (b["b_buf_read"], b["b_buf_write"]) == (16, 16)
    # a_buf and b_buf at the preset's 2.5 pJ/B each way; global_buf 640 x 1 + 640 x 10
    expected = (2 * 2048 + 2 * 16) * 2.5e-12 + 640 * 1e-12 + 640 * 10e-12
    assert r["energy_breakdown_j"]["sram"] == pytest.approx(expected, rel=1e-12)


def test_the_gpu_roofline_applies_the_measured_compute_efficiency():
    # H100: 989.4 TFLOPS fp16 dense x 0.88 (preset, fitted through the simulator to the
    # measured cuBLAS GEMMs)
    t = targets.load_target("h100")
    program = _program(t, "MATMUL dtype_act=fp16 dtype_wgt=fp16 dtype_out=fp16 m=256 n=4096 "
                          "k=4096 act_buf=0 wgt_buf=0 wgt_addr=0x200000 out_buf=0 "
                          "out_addr=0x2200000 count=1\n")
    expected_s = 2 * 256 * 4096 * 4096 / (989.4e12 * 0.88)
    assert program_roofline(program, t)["roofline_s"] == pytest.approx(expected_s, rel=1e-12)
    assert simulate_program(program, t, 1)["roofline_seconds"] == \
        pytest.approx(expected_s, rel=1e-12)
