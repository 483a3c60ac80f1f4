"""The six output-contract holes of issue 13: each ends with one line on stderr and exit 2
(or, for file modes, writes what a plain open() would)."""
import os
import stat
import subprocess
import sys

from tests.cli.test_bad_input import assert_one_line_error
from tests.cli.sample_program import sample_program

import isa


def test_pareto_on_a_non_utf8_file(hwsim, tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes(b"point,x,y\n0,1,2\n1,\xff\xfe,3\n")
    assert_one_line_error(hwsim("pareto", str(path), "--x", "x", "--y", "y"),
                          "results.csv: not a UTF-8 text file")


def test_pareto_y_on_a_text_column(hwsim, tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("point,x,name\n0,1.0,alpha\n1,2.0,beta\n")
    assert_one_line_error(hwsim("pareto", str(path), "--x", "x", "--y", "name"),
                          "column 'name' holds no numbers (e.g. 'alpha')")


def test_cosim_without_cocotb(tmp_path):
    """A cocotb that cannot be imported (shadowed on PYTHONPATH) gives the install hint."""
    fake = tmp_path / "cocotb"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named cocotb')\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"}
    out = subprocess.run([sys.executable, "-m", "hwsim.cli.main", "cosim"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert_one_line_error(out, "hwsim cosim needs cocotb 2.x: pip install 'hwsim[test]'")


def test_unwritable_output_names_the_users_path(hwsim, tmp_path):
    program = tmp_path / "p.hwx"
    isa.write(str(program), sample_program())
    taken = tmp_path / "out.s"
    taken.mkdir()        # a directory where the output file should go
    out = hwsim("disasm", str(program), "-o", str(taken))
    assert_one_line_error(out, f"{taken}: ")
    assert ".tmp-" not in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.s", "p.hwx"]   # no temp left


def test_output_files_follow_the_umask(tmp_path):
    for umask, want in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            path = tmp_path / f"out-{umask:o}.bin"
            isa.write_atomic(str(path), b"data")
        finally:
            os.umask(old)
        assert stat.S_IMODE(path.stat().st_mode) == want, (oct(umask), oct(path.stat().st_mode))


def test_a_directory_as_target(hwsim, tmp_path):
    assert_one_line_error(hwsim("targets", "show", str(tmp_path)),
                          f"target file {tmp_path} is a directory, not a YAML file")
