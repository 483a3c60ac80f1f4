"""One GPU energy method (issue 18, finding 10): every GPU preset charges an action
(board power - idle power) / the peak rate of what does it. Board powers are datasheet TDPs,
written here independently of the presets: V100S PCIe 250 W, V100 PCIe 250 W (900 GB/s, 112 TFLOPS
tensor), A100 SXM 400 W (40 GB and 80 GB), H100 SXM 700 W.
Before the fix h100 charged 31.2 pJ/B (the HBM2 device share) where a100 charged 225.1."""
import pytest

import targets

BOARD_W = {"v100s": 250.0, "v100-pcie-16gb": 250.0, "a100": 400.0, "a100-80gb": 400.0,
           "h100": 700.0}
BANDWIDTH_B_PER_S = {"v100s": 1134e9, "v100-pcie-16gb": 900e9, "a100": 1555e9,
                     "a100-80gb": 2039e9, "h100": 3350e9}   # datasheets
TENSOR_FP16_FLOPS = {"v100s": 130e12, "v100-pcie-16gb": 112e12, "a100": 312e12,
                     "a100-80gb": 312e12, "h100": 989.4e12}  # dense, datasheets


@pytest.mark.parametrize("name", sorted(BOARD_W))
def test_hbm_bytes_are_charged_the_board_dynamic_power_at_peak_bandwidth(name):
    t = targets.load_target(name)
    hbm = t.energy.memories[t.main_memory]
    static_w = t.energy.static.power_w
    expected_pj = (BOARD_W[name] - static_w) / BANDWIDTH_B_PER_S[name] * 1e12
    assert hbm.read_pj_per_byte == pytest.approx(expected_pj, rel=0.005)
    assert hbm.write_pj_per_byte == pytest.approx(expected_pj, rel=0.005)


@pytest.mark.parametrize("name", sorted(BOARD_W))
def test_tensor_macs_are_charged_the_same_way(name):
    t = targets.load_target(name)
    mac_pj = t.energy.compute["sm"].mac_pj["fp16"]
    expected_pj = (BOARD_W[name] - t.energy.static.power_w) / (TENSOR_FP16_FLOPS[name] / 2) * 1e12
    assert mac_pj == pytest.approx(expected_pj, rel=0.01)


def test_every_gpu_preset_is_covered():
    gpus = {n for n in targets.preset_names() if targets.load_target(n).family == "gpu"}
    assert gpus == set(BOARD_W)
