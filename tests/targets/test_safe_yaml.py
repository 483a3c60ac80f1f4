"""Issue 16 causes 1, 4 and 6 for targets: the YAML reader's limits (depth, integer length,
size), duplicate keys and aliases refused, and an over-long target name is the project's
error, not OSError."""
import pytest

from targets import TargetError, load_target, preset_dir
from targets.safe_yaml import MAX_YAML_BYTES, MAX_YAML_DEPTH


def _write(tmp_path, text: str):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("text, message", [
    ("a: " + "[" * 900 + "]" * 900 + "\n", f"nesting deeper than {MAX_YAML_DEPTH} levels"),
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 40)) + "  " * 40 + "v: 1\n",
     f"nesting deeper than {MAX_YAML_DEPTH} levels"),
    ("a: " + "9" * 5000 + "\n", "a value of 5000 characters; the limit is 4096"),
    ("name: a\nname: b\n", "line 2 column 1: YAML syntax error: duplicate key 'name'"),
    ("a: &x [1, 2]\nb: *x\n", "YAML aliases (*name) are not supported; write the value out"),
    ("a: " + "x" * 5000 + "\n", "a value of 5000 characters; the limit is 4096"),
], ids=["flow-depth", "block-depth", "long-int", "duplicate", "alias", "long-scalar"])
def test_malformed_yaml_is_one_target_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert str(err.value) == f"{path}: {message}"


def test_a_duplicate_key_in_a_preset_copy_is_refused(tmp_path):
    text = (preset_dir() / "neupims.yaml").read_text(encoding="utf-8")
    doubled = text.replace("\nname: neupims\n", "\nname: neupims\nname: other\n", 1)
    assert doubled != text
    with pytest.raises(TargetError, match="duplicate key 'name'"):
        load_target(_write(tmp_path, doubled))


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = _write(tmp_path, "# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(TargetError, match=f"a target file may hold at most {MAX_YAML_BYTES}"):
        load_target(path)


@pytest.mark.parametrize("name", ["x" * 300, "x" * 300 + ".yaml", "a/" + "b" * 300 + ".yaml",
                                  "x" * 5000, "a\0b", ""], ids=range(6))
def test_an_impossible_name_is_a_target_error_not_oserror(name):
    with pytest.raises(TargetError) as err:
        load_target(name)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", ["[" * 800, "{a: " * 500, "9" * 5000, "&a [1]", "*a"],
                         ids=range(5))
def test_a_hostile_set_value_is_one_target_error(value):
    with pytest.raises(TargetError) as err:
        load_target("neupims", [f"memories.hbm.channels={value}"])
    assert "\n" not in str(err.value)
