"""`hwsim targets` and `hwsim targets show`."""
import json


def test_targets_lists_all_nine(hwsim):
    out = hwsim("targets")
    assert out.returncode == 0, out.stderr
    names = [line.split()[0] for line in out.stdout.splitlines()[2:]]
    assert names == ["a100", "a100-80gb", "flightllm-u280", "flightllm-vhk158", "h100",
                     "mllm-npu-sd8gen3", "neupims", "v100-pcie-16gb", "v100s"]


def test_show_json_is_valid_and_carries_units(hwsim):
    out = hwsim("targets", "show", "a100", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    hbm = data["target"]["memories"]["hbm"]
    assert hbm["bandwidth_bytes_per_s"] == 1555e9
    assert data["target"]["clocks"]["sm"]["freq_hz"] == 1410e6
    assert data["derived"]["peak_macs_per_s"]["sm"]["fp16"] == 156e12
    assert data["derived"]["main_memory_bandwidth_bytes_per_s"] == 1555e9


def test_show_json_is_byte_identical_across_runs(hwsim):
    assert hwsim("targets", "show", "neupims", "--json").stdout == \
        hwsim("targets", "show", "neupims", "--json").stdout


def test_show_with_set_and_text(hwsim):
    out = hwsim("targets", "show", "flightllm-u280", "--set", "clocks.core.freq_hz=450e6")
    assert out.returncode == 0, out.stderr
    assert "freq_hz: 450000000.0" in out.stdout
    assert "peak mpe: int8 5.53 TMAC/s" in out.stdout
