"""`hwsim targets show NAME --yaml` prints a target you can copy: it loads back as the same
description (same fingerprint); a copy of an overridden target names itself apart."""
import pytest

import targets


@pytest.mark.parametrize("name", targets.preset_names())
def test_every_preset_round_trips_through_yaml(hwsim, tmp_path, name):
    out = hwsim("targets", "show", name, "--yaml")
    assert out.returncode == 0, out.stderr
    path = tmp_path / f"{name}-copy.yaml"
    path.write_text(out.stdout)
    again = targets.load_target(str(path))
    preset = targets.load_target(name)
    assert again.name == name
    assert again.fingerprint() == preset.fingerprint()


def test_an_overridden_copy_loads_back_with_its_own_name(hwsim, tmp_path):
    out = hwsim("targets", "show", "a100", "--yaml", "--set", "units.sm.count=100")
    path = tmp_path / "changed.yaml"
    path.write_text(out.stdout)
    copy = targets.load_target(str(path))
    changed = targets.load_target("a100", ["units.sm.count=100"])
    assert copy.units["sm"].count == 100
    assert copy.name == f"a100-{changed.fingerprint().hex()[:8]}"
    assert out.stdout.startswith("# hwsim target a100 with --set units.sm.count=100\n")


def test_show_json_names_the_overrides(hwsim):
    import json
    out = json.loads(hwsim("targets", "show", "a100", "--json", "--set",
                           "units.sm.count=100").stdout)
    assert (out["label"], out["overrides"]) == ("a100+1", ["units.sm.count=100"])
    plain = json.loads(hwsim("targets", "show", "a100", "--json").stdout)
    assert "label" not in plain
    assert plain["derived"]["fingerprint"] != out["derived"]["fingerprint"]
