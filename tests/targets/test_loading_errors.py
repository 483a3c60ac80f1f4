"""Malformed target files and bad overrides: one TargetError line naming the problem."""
import pytest
import yaml

import targets
from targets import TargetError


def write_variant(tmp_path, edit, name="my.yaml"):
    raw = yaml.safe_load((targets.preset_dir() / "a100.yaml").read_text())
    edit(raw)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def test_a_copy_of_a_preset_loads_from_a_path(tmp_path):
    path = write_variant(tmp_path, lambda raw: None)
    assert targets.load_target(path).fingerprint() == targets.load_target("a100").fingerprint()


def test_unknown_target_name_lists_the_presets():
    with pytest.raises(TargetError, match=r"^unknown target 'b200' \(built-in: a100, a100-80gb, flightllm-u280"):
        targets.load_target("b200")


def test_missing_file():
    with pytest.raises(TargetError, match="target file nope/x.yaml does not exist"):
        targets.load_target("nope/x.yaml")


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nfamily: gpu\nclocks: [unclosed\n")
    with pytest.raises(TargetError, match=r"bad.yaml: line 4 column 1: YAML syntax error"):
        targets.load_target(str(path))


def test_negative_bandwidth(tmp_path):
    path = write_variant(tmp_path, lambda r: r["memories"]["hbm"].update(bandwidth_bytes_per_s=-1))
    with pytest.raises(TargetError) as err:
        targets.load_target(path)
    assert str(err.value) == (f"{path}: memories.hbm.bandwidth_bytes_per_s: Input should be "
                              "greater than 0 (got -1)")


def test_unknown_field(tmp_path):
    path = write_variant(tmp_path, lambda r: r["units"]["sm"].update(tensor_cores=432))
    with pytest.raises(TargetError, match=r": unknown field 'units.sm.tensor_cores'$"):
        targets.load_target(path)


def test_missing_field_and_missing_source(tmp_path):
    path = write_variant(tmp_path, lambda r: r["clocks"]["sm"].pop("source"))
    with pytest.raises(TargetError, match=r": clocks.sm.source: required field is missing$"):
        targets.load_target(path)


def test_dangling_references(tmp_path):
    path = write_variant(tmp_path, lambda r: r["units"]["sm"].update(clock="nope"))
    with pytest.raises(TargetError, match="unit sm runs on clock 'nope', which is not in clocks"):
        targets.load_target(path)
    path = write_variant(tmp_path, lambda r: r["energy"]["buffers"].pop("l2"))
    with pytest.raises(TargetError, match="energy.buffers has no entry for buffers 'l2'"):
        targets.load_target(path)


def test_wrong_family_and_not_a_mapping(tmp_path):
    path = write_variant(tmp_path, lambda r: r.update(family="tpu"))
    with pytest.raises(TargetError, match="family 'tpu' is not one of fpga_dsp, npu_pim"):
        targets.load_target(path)
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(TargetError, match="a target file must hold a mapping, not list"):
        targets.load_target(str(bad))


def test_unknown_unit_kind(tmp_path):
    path = write_variant(tmp_path, lambda r: r["units"]["sm"].update(kind="tpu"))
    with pytest.raises(TargetError, match="units.sm"):
        targets.load_target(path)


def test_some_buffer_must_hold_each_operand(tmp_path):
    path = write_variant(tmp_path, lambda r: r["buffers"]["l2"].update(holds=["kv"]))
    with pytest.raises(TargetError, match=r"no buffer holds weight operands"):
        targets.load_target(path)
