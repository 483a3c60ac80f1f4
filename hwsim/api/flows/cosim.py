"""The RTL cross-checks: every unit configuration of the simulator under cocotb against its
hwsim unit model, then whole programs on the RTL ISA core against hwsim. rtl_models sits above
hwsim (it checks hwsim's unit models), so it is imported here, inside the run, and importing
hwsim never loads the RTL harness."""
from __future__ import annotations

from hwsim.errors import HwsimError


def require_cocotb() -> None:
    try:
        import cocotb  # noqa: F401 -- the testbenches need it; say so before any build starts
        import cocotb_tools.runner  # noqa: F401
    except ImportError as err:
        raise HwsimError(f"hwsim cosim needs cocotb 2.x: pip install 'hwsim[test]' "
                         f"(or bash .ci/test.sh); import failed: {err}") from None


def cross_checks(sim: str, seed: int, vectors: int) -> tuple[list, list]:
    """(unit results, program results); each has `.passed` and `.as_dict()`."""
    if vectors < 1:
        raise HwsimError(f"--vectors must be >= 1, not {vectors}")
    require_cocotb()
    from rtl_models import cosim, programs, units
    from hwsim.api.flows.cosim_programs import compile_gemm
    try:
        cosim.require_simulator(sim)
    except cosim.CosimError as err:
        raise HwsimError(str(err)) from err
    # builds persist per user (one directory per simulator, top and parameters) and are reused
    build_root = cosim.default_build_root()
    results, program_results = [], []
    try:
        for unit, params in units.COSIM_POINTS[sim]:
            results.append(cosim.cross_check(unit, params, sim=sim, seed=seed, vectors=vectors,
                                             build_root=build_root))
        for _, check in programs.COSIM_PROGRAMS[sim]:
            program_results.append(check(sim, seed, build_root, compile_gemm))
    except cosim.CosimError as err:
        raise HwsimError(str(err).splitlines()[0]) from err
    return results, program_results
