"""One roofline (issue 18, finding 9): `hwsim roofline` and `simulate`'s roofline_seconds come
from the same program bound, and a GPU's vector work is charged at its fp32 CUDA-core peak
(A100: 19.5 TFLOPS), never at the fp16 tensor-core peak (312 TFLOPS)."""
import json

import pytest

import isa
import targets
from hwsim.roofline import program_roofline

A100_FP32_FLOPS = 19.5e12       # datasheet, non-tensor FP32
A100_FP16_TENSOR_FLOPS = 312e12  # datasheet, dense tensor FP16


def _a100_program(asm: str, sets=()):
    t = targets.load_target("a100", list(sets))
    p = isa.assemble(".target a100\n" + asm, "hand")
    return isa.Program(t.name, t.fingerprint(), p.streams), t


def test_gpu_vector_work_runs_at_the_fp32_vector_peak():
    # one VADD of 1,024 x 4,096 fp16 elements on chip: one element-pass each, 4,194,304 ops
    program, t = _a100_program(
        "VADD dtype_in=fp16 dtype_out=fp16 rows=1024 cols=4096 src0_buf=0 src1_buf=0 "
        "src1_addr=0x800000 dst_buf=0 dst_addr=0x1000000 count=1\n")
    r = program_roofline(program, t)
    assert r["per_resource_s"]["sm"] == pytest.approx(1024 * 4096 / A100_FP32_FLOPS, rel=1e-12)
    assert r["roofline_s"] == pytest.approx(1024 * 4096 / A100_FP32_FLOPS, rel=1e-12)


def test_gpu_matrix_work_runs_at_the_tensor_core_peak():
    # 256 x 4,096 x 4,096 fp16 GEMM with on-chip operands: 2 FLOPs per MAC at 312 TFLOPS (the
    # preset's calibrated efficiency, 0.92, set to 1 so the peak itself is checked)
    program, t = _a100_program(
        "MATMUL dtype_act=fp16 dtype_wgt=fp16 dtype_out=fp16 m=256 n=4096 k=4096 act_buf=0 "
        "wgt_buf=0 wgt_addr=0x200000 out_buf=0 out_addr=0x2200000 count=1\n",
        ["units.sm.compute_efficiency_fraction=1.0"])
    r = program_roofline(program, t)
    assert r["roofline_s"] == pytest.approx(2 * 256 * 4096 * 4096 / A100_FP16_TENSOR_FLOPS,
                                            rel=1e-12)


CASES = [("llama2-7b", "a100", ["--phase", "prefill", "--seq", "256"]),
         ("llama2-7b", "h100", ["--phase", "decode", "--context", "512", "--batch", "4"]),
         ("phi-2", "flightllm-u280", ["--phase", "decode"]),
         ("llama2-7b", "neupims", ["--phase", "decode", "--batch", "16"]),
         ("tiny-llama", "v100s", ["--phase", "generate", "--seq", "16", "--gen", "8"])]


@pytest.mark.parametrize("model, target, workload", CASES)
def test_roofline_and_simulate_print_the_same_bound(hwsim, model, target, workload):
    args = [model, "-t", target, "--layers", "2", *workload, "--json"]
    roof, sim = hwsim("roofline", *args), hwsim("simulate", *args)
    assert roof.returncode == 0 and sim.returncode == 0, roof.stderr + sim.stderr
    roof, sim = json.loads(roof.stdout), json.loads(sim.stdout)
    assert roof["roofline_s"] == sim["roofline_seconds"]
    assert roof["bound"] == sim["bound"]
    assert roof["roofline_s"] <= sim["seconds"]
    if workload[1] != "generate":  # per-op rows add up per resource to at least the bound
        assert sum(r["roofline_s"] for r in roof["ops"]) >= roof["roofline_s"] * (1 - 1e-9)
