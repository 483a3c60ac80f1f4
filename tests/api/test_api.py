"""hwsim.api: records, the JSON contract shared with the CLI, errors, target labels."""
import dataclasses
import json
import subprocess
import sys

import pytest

import hwsim
from hwsim import api
from hwsim.time_split import IDLE, OVERLAP, time_split

CASE = ("llama2-7b", "a100")


@pytest.fixture(scope="module")
def decode_512():
    return hwsim.simulate(*CASE, phase="decode", context=512)


def test_to_dict_is_the_cli_json_byte_for_byte(decode_512):
    cli = subprocess.run([sys.executable, "-m", "hwsim.cli.main", "simulate", CASE[0], "-t",
                          CASE[1], "--phase", "decode", "--context", "512", "--json"],
                         capture_output=True, check=True, timeout=300).stdout
    assert json.dumps(decode_512.to_dict(), sort_keys=True, indent=2).encode() + b"\n" == cli


def test_record_fields_and_plain_types(decode_512):
    r = decode_512
    assert (r.model, r.target, r.phase, r.context, r.batch) == ("llama2-7b", "a100", "decode",
                                                                512, 1)
    d = r.to_dict()
    assert d["seconds"] == r.seconds and d["energy_breakdown_j"] == dict(r.energy_breakdown_j)
    assert "_detail" not in d and "extra" not in d and "detail" not in d
    # JSON types only: a round trip through json gives the same object
    assert json.loads(json.dumps(d)) == d
    # the contract's sums hold on the record: energy is the sum of its parts, J/token = 1/(tok/J)
    assert r.energy_j == pytest.approx(sum(r.energy_breakdown_j.values()), rel=1e-12)
    assert r.joules_per_token * r.tokens_per_joule == pytest.approx(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.seconds = 0.0
    with pytest.raises(TypeError):
        r.bytes["dram_read"] = 0.0


def test_to_frame_flattens_nested_fields(decode_512):
    pytest.importorskip("pandas")
    df = decode_512.to_frame()
    assert len(df) == 1
    assert df.loc[0, "energy_breakdown_j.dram"] == decode_512.energy_breakdown_j["dram"]
    assert df.loc[0, "tokens_per_s"] == decode_512.tokens_per_s


def test_errors_are_hwsim_errors_with_the_cli_text(hwsim):
    with pytest.raises(hwsim_error()) as err:
        api.simulate("no-such-model", "a100")
    cli = hwsim("simulate", "no-such-model", "-t", "a100", "--json")
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"hwsim: error: {err.value}"
    with pytest.raises(hwsim_error()):
        api.load_target("tpu-v9")
    with pytest.raises(hwsim_error(), match="unknown workload field"):
        api.workload(contxt=5)


def hwsim_error():
    return hwsim.HwsimError


def test_an_overridden_target_is_named_apart():
    base = api.roofline("llama2-7b", "a100", layers=1)
    changed = api.roofline("llama2-7b", "a100", layers=1,
                           overrides=["units.sm.peak_flops_per_s.fp16=1e14"])
    assert base.target == "a100" and "overrides" not in base.extra
    assert changed.target == "a100+1"
    assert changed.to_dict()["overrides"] == ["units.sm.peak_flops_per_s.fp16=1e14"]
    preset = api.load_target("a100").fingerprint().hex()[:16]
    assert changed.extra["target_fingerprint"] != preset


def test_a_file_reusing_a_preset_name_is_named_apart(tmp_path):
    import yaml
    tree = api.load_target("a100").model_dump(mode="json")
    tree["units"]["sm"]["count"] = 100
    path = tmp_path / "my-a100.yaml"
    path.write_text(yaml.safe_dump(tree))
    label = api.target_label(api.load_target(str(path)))
    fingerprint = api.load_target(str(path)).fingerprint().hex()
    assert label["target"] == f"a100+{fingerprint[:8]}"
    same = tmp_path / "copy.yaml"
    same.write_text(yaml.safe_dump(api.load_target("a100").model_dump(mode="json")))
    assert api.target_label(api.load_target(str(same)))["target"] == "a100"


def test_time_split_by_hand():
    """a busy [0, 2), b busy [1, 3), a SYS row to 5: a alone 1, both 1, b alone 1, idle 2."""
    import numpy as np
    split = time_split(np.array([0.0, 1.0, 2.0]), np.array([2.0, 3.0, 5.0]), ["a", "b", None])
    assert split == {"a alone": 1.0, "b alone": 1.0, OVERLAP: 1.0, IDLE: 2.0}


def test_time_split_adds_up_to_the_step(decode_512):
    x = api.explain(decode_512, "a100")
    assert sum(x["time_split_s"].values()) == pytest.approx(decode_512.seconds, rel=1e-9)
    assert x["cycles_clock"] == "sm" and x["cycles_clock_hz"] == 1410e6
    assert decode_512.cycles == round(decode_512.seconds * 1410e6)
    dram = decode_512.bytes["dram_read"] + decode_512.bytes["dram_write"]
    assert x["dram_bytes_per_s"] == pytest.approx(dram / decode_512.seconds)
    assert x["average_w"] == pytest.approx(decode_512.energy_j / decode_512.seconds)


def test_names_paths_and_loaded_objects_give_the_same_result(tmp_path):
    import yaml
    by_name = api.simulate("tiny-llama", "a100", context=32).to_dict()
    loaded = api.simulate(api.load_model("tiny-llama"), api.load_target("a100"), context=32)
    path = tmp_path / "a100.yaml"
    path.write_text(yaml.safe_dump(api.load_target("a100").model_dump(mode="json")))
    from_file = api.simulate("tiny-llama", str(path), context=32)
    assert loaded.to_dict() == by_name == from_file.to_dict()
    # overrides on a loaded target are applied and named as for a name
    changed = api.simulate("tiny-llama", api.load_target("a100"), context=32,
                           overrides=["memories.hbm.achieved_bandwidth_fraction=0.5"])
    assert changed.target == "a100+1" and changed.seconds != loaded.seconds
