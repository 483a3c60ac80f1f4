"""The nine presets load, are named after their files, and derive the figures worked out here."""
import pytest

import targets
from targets.summary import derived_figures

PRESETS = ["a100", "a100-80gb", "flightllm-u280", "flightllm-vhk158", "h100", "mllm-npu-sd8gen3", "neupims",
           "v100-pcie-16gb", "v100s"]


def test_exactly_the_nine_presets_ship():
    assert targets.preset_names() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_matches_its_file_name(name):
    t = targets.load_target(name)
    assert t.name == name
    assert len(t.fingerprint()) == 32


def test_u280_peak_by_hand():
    # 3 cores x 128 chains x 16 DSP48 x 2 INT8 MACs x 225 MHz
    t = targets.load_target("flightllm-u280")
    assert t.peak_macs_per_s("mpe", "int8") == pytest.approx(3 * 128 * 16 * 2 * 225e6)
    assert t.peak_macs_per_s("mpe", "fp16") == 0.0
    # 32 pseudo-channels x 14.375 GB/s
    assert t.memories["hbm"].bandwidth_bytes_per_s == pytest.approx(32 * 14.375e9)


def test_neupims_by_hand():
    t = targets.load_target("neupims")
    assert t.peak_macs_per_s("systolic", "fp16") == pytest.approx(8 * 128 * 128 * 1e9)
    # PIM: 32 channels x 32 banks x 16 multipliers at 1 GHz
    assert t.peak_macs_per_s("pim", "fp16") == pytest.approx(32 * 32 * 16 * 1e9)
    hbm = t.memories["hbm"]
    assert hbm.channel_bandwidth_bytes_per_s == pytest.approx(64 / 2 * 1e9)  # 64 B per 2 cycles
    assert hbm.timing.trc_cycles == 48  # tRAS 34 + tRP 14, SETUPS.md's tRC


def test_gpu_peaks_are_half_the_datasheet_flops():
    a100 = targets.load_target("a100")
    assert a100.peak_macs_per_s("sm", "fp16") == pytest.approx(312e12 / 2)
    assert a100.peak_macs_per_s("sm", "int8") == pytest.approx(624e12 / 2)


def test_mobile_npu_peak_is_the_papers_73_tops():
    t = targets.load_target("mllm-npu-sd8gen3")
    tops = 2 * t.peak_macs_per_s("hmx", "int8") / 1e12
    assert tops == pytest.approx(73, rel=0.02)


def test_isa_resources_follow_yaml_order():
    t = targets.load_target("neupims")
    res = t.isa_resources()
    assert [name for name, _ in res.buffers] == ["spad", "acc_spad"]
    assert res.pim and res.dram_bytes == 32 * 2**30
    assert t.units_for_queue("MV") == ["vector", "pim"]


def test_derived_figures_are_not_stored_twice():
    d = derived_figures(targets.load_target("a100"))
    assert d["onchip_bytes"] == 40 * 2**20
    assert d["peak_macs_per_s"]["sm"]["int4"] == pytest.approx(1248e12 / 2)


def test_presets_ship_as_package_data():
    assert (targets.preset_dir() / "a100.yaml").is_file()
