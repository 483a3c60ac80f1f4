"""Malformed inputs, tried as a new user would: one line on stderr, exit 2, no traceback."""
import shutil

import pytest

import isa
import targets
from tests.cli.sample_program import sample_program


def assert_one_line_error(out, *fragments):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("hwsim: error: ")
    assert "Traceback" not in out.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_target(hwsim):
    assert_one_line_error(hwsim("targets", "show", "tpu-v9"), "unknown target 'tpu-v9'")


def test_yaml_syntax_error(hwsim, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nfamily: gpu\nunits: {a: [1, 2}\n")
    assert_one_line_error(hwsim("targets", "show", str(path)), "broken.yaml", "YAML syntax error")


def test_negative_bandwidth_via_set(hwsim):
    out = hwsim("targets", "show", "a100", "--set", "memories.hbm.bandwidth_bytes_per_s=-5")
    assert_one_line_error(out, "memories.hbm.bandwidth_bytes_per_s", "greater than 0", "-5")


def test_unknown_field_in_file(hwsim, tmp_path):
    text = (targets.preset_dir() / "v100s.yaml").read_text().replace(
        "    count: 80\n", "    count: 80\n    warp_size: 32\n")
    path = tmp_path / "v.yaml"
    path.write_text(text)
    assert_one_line_error(hwsim("targets", "show", str(path)), "unknown field 'units.sm.warp_size'")


def _hwx(tmp_path):
    path = tmp_path / "p.hwx"
    isa.write(path, sample_program())
    return path


def test_truncated_hwx(hwsim, tmp_path):
    path = _hwx(tmp_path)
    path.write_bytes(path.read_bytes()[:-40])
    assert_one_line_error(hwsim("disasm", str(path)), "p.hwx", "checksum mismatch")


def test_bit_flipped_hwx(hwsim, tmp_path):
    path = _hwx(tmp_path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x10
    path.write_bytes(bytes(data))
    assert_one_line_error(hwsim("disasm", str(path)), "checksum mismatch")


def test_missing_and_non_hwx_files(hwsim, tmp_path):
    assert_one_line_error(hwsim("disasm", str(tmp_path / "none.hwx")), "cannot read")
    (tmp_path / "x.hwx").write_text("hello")
    assert_one_line_error(hwsim("disasm", str(tmp_path / "x.hwx")), "bad magic")


def test_unknown_command_and_flag(hwsim):
    assert_one_line_error(hwsim("frobnicate"), "invalid choice")
    assert_one_line_error(hwsim("targets", "show", "a100", "--jsn"), "unrecognized arguments")


def test_unknown_claim_id_is_one_line(hwsim):
    assert_one_line_error(hwsim("papers", "--only", "C1,C99"), "unknown claim id", "C99")


def test_check_on_a_float_path_or_a_hwx_is_one_line(hwsim, tmp_path):
    assert_one_line_error(hwsim("simulate", "tiny-llama", "-t", "neupims", "--check"),
                          "--check", "int8-activation scheme")
    assert_one_line_error(hwsim("simulate", str(tmp_path / "p.hwx"), "-t", "a100", "--check"),
                          "--check needs the model")


@pytest.mark.parametrize("edit, fragment", [
    (lambda s: s.replace("rows=1 row_bytes=16", "rows=16 row_bytes=16384"),
     "overflows buffer b_buf (131072 B)"),
    (lambda s: s.replace("release=MV", ""), "unbalanced tokens LD->MV"),
    (lambda s: s.replace("GEMV", "GEMX"), "unknown opcode 'GEMX'"),
    (lambda s: s.replace(".target flightllm-u280", ".target nope"), "unknown target 'nope'"),
])
def test_bad_assembly_leaves_no_output_file(hwsim, tmp_path, edit, fragment):
    from tests.cli.sample_program import SAMPLE_ASM as DEMO_ASM
    src = tmp_path / "p.s"
    src.write_text(edit(DEMO_ASM))
    out = tmp_path / "p.hwx"
    assert_one_line_error(hwsim("asm", str(src), "-o", str(out)), fragment)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["p.s"]


def test_failed_write_leaves_the_old_file_alone(hwsim, tmp_path):
    from tests.cli.sample_program import SAMPLE_ASM as DEMO_ASM
    src = tmp_path / "p.s"
    src.write_text(DEMO_ASM.replace("release=MV", ""))
    out = tmp_path / "p.hwx"
    out.write_bytes(b"previous")
    hwsim("asm", str(src), "-o", str(out))
    assert out.read_bytes() == b"previous"


def test_output_into_missing_directory(hwsim, tmp_path):
    from tests.cli.sample_program import SAMPLE_ASM as DEMO_ASM
    src = tmp_path / "p.s"
    src.write_text(DEMO_ASM)
    assert_one_line_error(hwsim("asm", str(src), "-o", str(tmp_path / "no" / "p.hwx")))


def test_installed_console_script_exists():
    assert shutil.which("hwsim"), "pip install -e . should install the hwsim console script"
