import shutil
import subprocess
from pathlib import Path

import pytest

from isa import docgen, veriloggen


def test_isa_doc_is_generated_from_the_tables():
    text = (Path(__file__).parents[2] / "docs" / "isa.md").read_text()
    assert text == docgen.render(), "docs/isa.md is stale: run python -m isa.docgen > docs/isa.md"


def test_verilog_header_is_generated_from_the_tables():
    text = (Path(__file__).parents[2] / "rtl_models" / "isa_fields.vh").read_text()
    assert text == veriloggen.render(), "rtl_models/isa_fields.vh is stale: run python -m isa.veriloggen"


@pytest.mark.rtl
def test_verilog_header_compiles_under_icarus(tmp_path):
    if shutil.which("iverilog") is None:
        pytest.fail("iverilog missing: run .ci/test.sh")
    top = tmp_path / "top.v"
    inc = Path(__file__).parents[2] / "rtl_models"
    top.write_text('module top;\n`include "isa_fields.vh"\n'
                   'initial if (MATRIX_M_LO != 49 || OP_MATMUL != 6\'h08) $fatal(1, "mismatch");\n'
                   'endmodule\n')
    out = subprocess.run(["iverilog", "-g2012", "-I", str(inc), "-o", str(tmp_path / "a.out"),
                          str(top)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    run = subprocess.run(["vvp", str(tmp_path / "a.out")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
