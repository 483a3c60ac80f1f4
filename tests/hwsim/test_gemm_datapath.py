"""runtime.gemm_datapath (targets/gpu_runtime.py, hwsim/timing/cuda_core_gemm.py): a stack whose
GEMMs run on the CUDA cores, not the tensor cores (llama.cpp's 2023 CUDA prompt path on Volta).

Hand figures for the V100 PCIe preset: fp16 tensor 112 TFLOPS, fp32 14 TFLOPS, int8 DP4A
56.5 TOPS (2 ops per MAC); cuda_core_gemm: SGEMM at 0.884 of the fp32 peak, DP4A at 0.419 of
the int8 peak, f16 -> fp32 conversion 6 B per weight once per 512 activation rows, streamed at
900 GB/s x 0.83 achieved."""
import pytest

from targets.loader import preset_dir
from tests.cli.test_bad_input import assert_one_line_error
from tests.hwsim.one_matmul import one_matmul_seconds

CUDA_CORE = "runtime.gemm_datapath=cuda_core"
M, N, K = 512, 4096, 4096


def _gemm_seconds(dtype_wgt: str, sets=(), m=M) -> float:
    return one_matmul_seconds("v100-pcie-16gb", m, N, K, dtype_wgt, sets)


def test_tensor_core_default_runs_the_fp16_gemm_at_the_tensor_peak():
    assert _gemm_seconds("fp16") == pytest.approx(2 * M * N * K / 112e12, rel=1e-9)


@pytest.mark.parametrize("m", [512, 128])
def test_cuda_core_fp16_gemm_is_an_sgemm_plus_its_conversion_pass(m):
    # 512 x 4096 x 4096 = 8.59e9 MACs at 7e12 x 0.884 MAC/s = 1.388 ms; the conversion of the
    # 16.8 M weights, 6 B each = 100.7 MB at 747 GB/s = 0.135 ms, for a full 512-row batch
    sgemm_s = 2 * m * N * K / (14e12 * 0.884)
    convert_s = N * K * 6 / (900e9 * 0.83) * m / 512
    assert _gemm_seconds("fp16", [CUDA_CORE], m) == pytest.approx(sgemm_s + convert_s,
                                                                   rel=1e-9)


@pytest.mark.parametrize("dtype", ["int8", "int4"])
def test_cuda_core_integer_weight_gemm_runs_at_the_dp4a_rate(dtype):
    # no fp16 dequantization, no conversion: 8.59e9 MACs at 28.25e12 x 0.419 MAC/s = 0.726 ms
    assert _gemm_seconds(dtype, [CUDA_CORE]) == pytest.approx(
        2 * M * N * K / (56.5e12 * 0.419), rel=1e-9)


def test_cuda_core_is_slower_than_the_tensor_cores_it_replaces():
    assert _gemm_seconds("fp16", [CUDA_CORE]) > 7 * _gemm_seconds("fp16")


def test_a_target_without_cuda_core_costs_refuses_in_one_line(hwsim):
    out = hwsim("simulate", "tiny-llama", "-t", "h100", "--set", CUDA_CORE)
    assert_one_line_error(out, "runtime.gemm_datapath = cuda_core needs runtime.cuda_core_gemm")


def test_a_target_without_the_dp4a_rate_refuses_in_one_line(hwsim, tmp_path):
    text = (preset_dir() / "v100-pcie-16gb.yaml").read_text()
    text = text.replace(", int8: 56.5e+12}", "}").replace(", int8: 7.08}", "}")
    path = tmp_path / "v100-no-int8.yaml"
    path.write_text(text)
    assert hwsim("simulate", "tiny-llama", "-t", str(path)).returncode == 0
    out = hwsim("simulate", "tiny-llama", "-t", str(path), "--set", CUDA_CORE)
    assert_one_line_error(out, "runtime.gemm_datapath = cuda_core needs "
                               "units.sm.peak_flops_per_s['int8']")


def test_cuda_core_with_wave_quantization_refuses_in_one_line(hwsim):
    # the wave model times tensor-core CTA tiles; on the CUDA-core datapath it would change
    # nothing, so the combination is refused rather than accepted and ignored
    out = hwsim("simulate", "tiny-llama", "-t", "v100-pcie-16gb", "--set", CUDA_CORE,
                "--set", "units.sm.gemm_wave_quantization=true")
    assert_one_line_error(out, "runtime.gemm_datapath = cuda_core with "
                               "units.sm.gemm_wave_quantization = true")
