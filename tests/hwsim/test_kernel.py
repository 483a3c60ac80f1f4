"""`hwsim kernel`: single kernels, and the mobile-NPU preset against measured GEMM latencies."""
import json

import pytest

import targets
from compiler.errors import CompilerError
from hwsim.api.flows.kernel import kernel_result

# llm.npu (ASPLOS'25) Table: measured INT8 GEMM latency on the Redmi K70 Pro's NPU, ms
# (SETUPS.md section 3, calibration data).
MEASURED_NPU_MS = {"64,2048,2048": 0.9, "64,2048,8192": 1.5, "64,2048,11008": 2.0,
                   "32,4096,4096": 1.7, "32,4096,8192": 2.9, "32,4096,11008": 4.1}


def test_gemm_on_the_mobile_npu_against_measured_latency():
    """The preset models peak LPDDR5X bandwidth and HMX throughput with no efficiency factor,
    so every simulated GEMM is faster than measured; how much faster is recorded in
    docs/fidelity.md (5.7x to 11.6x). The gap must be systematic, not shape noise: the ratios
    stay within 2.5x of each other; the smallest GEMM has the largest gap because the model
    has no fixed per-graph-call overhead (an affine fit gives ~0.17 ms of it)."""
    target = targets.load_target("mllm-npu-sd8gen3")
    ratios = {}
    for shape, measured_ms in MEASURED_NPU_MS.items():
        simulated_ms = kernel_result("gemm", shape, target, "int8")["seconds"] * 1e3
        assert simulated_ms < measured_ms, shape
        ratios[shape] = measured_ms / simulated_ms
    assert max(ratios.values()) / min(ratios.values()) < 2.5, ratios


def test_gemm_bytes_and_macs_by_hand():
    # 64 x 2048 @ 2048 x 2048 int8: 2 x 64 x 2048 x 2048 FLOPs; the weights (4 MiB) and the
    # input (128 KiB) are loaded once, the output (128 KiB int8) stored once
    r = kernel_result("gemm", "64,2048,2048", targets.load_target("mllm-npu-sd8gen3"), "int8")
    assert r["flops"] == 2 * 64 * 2048 * 2048
    assert r["bytes"]["dram_read"] >= 2048 * 2048 + 64 * 2048
    assert r["bytes"]["dram_write"] == 64 * 2048


# kind, shape, target, dtype -> (FLOPs, off-chip bytes read, written), worked out by hand:
# gemv 4096 x 4096 int8: 2 x 4096^2 FLOPs; the 16 MiB weights + 4 KiB input in, 4 KiB out.
# softmax 64 x 1024 fp16: 128 KiB in and out. layernorm 16 x 4096 fp16: 128 KiB in + gamma and
# beta (2 x 4096 x 2 B), 128 KiB out.
HAND = {("gemv", "4096,4096", "flightllm-u280", "int8"): (2 * 4096 * 4096, 4096 ** 2 + 4096, 4096),
        ("softmax", "64,1024", "a100", "fp16"): (None, 64 * 1024 * 2, 64 * 1024 * 2),
        ("layernorm", "16,4096", "v100s", "fp16"): (None, 16 * 4096 * 2 + 2 * 4096 * 2,
                                                    16 * 4096 * 2)}


@pytest.mark.parametrize("kind, shape, target, dtype", sorted(HAND))
def test_kernel_traffic_and_roofline_by_hand(kind, shape, target, dtype):
    t = targets.load_target(target)
    r = kernel_result(kind, shape, t, dtype)
    flops, read_b, write_b = HAND[(kind, shape, target, dtype)]
    if flops is not None:
        assert r["flops"] == flops
    assert (r["bytes"]["dram_read"], r["bytes"]["dram_write"]) == (read_b, write_b)
    # all three stream their data once: memory-bound at the datasheet bandwidth
    bandwidth = t.memories[t.main_memory].bandwidth_bytes_per_s
    assert r["bound"] == "memory"
    assert r["roofline_seconds"] == pytest.approx((read_b + write_b) / bandwidth, rel=1e-12)
    # latency, bank conflicts and refresh cost something, but not more than the transfer
    # itself again and again: within 3x of the bound
    assert r["roofline_seconds"] < r["seconds"] < 3 * r["roofline_seconds"]


def test_attention_kernel_flops_by_hand():
    # 4 sequences x 8 heads, 256 keys of 64 dims: QK^T and PV, 2 x 2 x 256 x 64 FLOPs per head
    # per query, plus the softmax's few ops per score (< 5 % more)
    r = kernel_result("attention", "4,8,256,64", targets.load_target("neupims"), "fp16")
    matmuls = 4 * 8 * 2 * 2 * 256 * 64
    assert matmuls <= r["flops"] <= 1.05 * matmuls
    assert r["roofline_seconds"] <= r["seconds"]


def test_bad_kernel_shapes(hwsim):
    out = hwsim("kernel", "gemm", "--shape", "64,2048", "-t", "a100")
    assert out.returncode == 2 and "--shape for gemm must be M,K,N" in out.stderr
    with pytest.raises(CompilerError, match="unknown kernel"):
        kernel_result("conv", "1,2", targets.load_target("a100"), "int8")
    out = hwsim("kernel", "gemm", "--shape", "8,64,64", "-t", "a100", "--json")
    assert json.loads(out.stdout)["kernel"] == "gemm"
