"""Program-level co-simulation: tile programs run on the RTL ISA core (rtl_models/isa_core.v)
and in hwsim. Every instruction's start and end cycle and the total are equal, and the final
off-chip image equals a numpy computation of the kernel (and hwsim.functional) bit for bit. A
patched DRAM timing or unit formula in hwsim makes the comparison fail."""
import pytest

from hwsim.memory import kernel as dram_kernel
from hwsim import unit_models
from rtl_models import programs
from hwsim.api.flows.cosim_programs import compile_gemm
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


# Totals: 655 and 6,188 cycles when every row read its own bursts; a burst that unaligned rows
# share is now read once (model and RTL), and each burst saved is one tCCD_L (2 cycles) of
# back-to-back column commands: 16x16x16 loads A and B as 16 rows of 16 B (4 rows per 64 B
# burst: 16 -> 4 bursts each), 655 - 2 * 12 * 2 = 607; 64x32x32 loads A as 64 rows of 32 B
# (64 -> 32 bursts) and B as 32 rows of 32 B (32 -> 16), 6,188 - (32 + 16) * 2 = 6,092.
# Since a matrix unit that does not run VEC converts each output tile in place (the spill
# staging fix, compiler/codegen/context.py), 64x32x32's second MATMUL no longer waits for the
# first tile's REQUANT: it starts when the first MATMUL ends, one REQUANT earlier. A 32 x 32
# REQUANT on the 4-lane vector unit is 1,024 / 4 + 1 (pipeline start) = 257 cycles, so
# 6,092 - 257 = 5,835. 16x16x16 is one tile: unchanged.
@pytest.mark.parametrize("shape, cycles", [((16, 16, 16), 607), ((64, 32, 32), 5835)])
def test_compiled_gemm_on_core_icarus(shape, cycles, rtl_build_root):
    require("icarus")
    result = programs.cross_check_gemm(shape, sim="icarus", seed=3, build_root=rtl_build_root,
                                       compile_program=compile_gemm)
    assert_passed(result)
    assert result.rtl_cycles == result.model_cycles == cycles


def test_vexp_program_on_core_icarus(rtl_build_root):
    require("icarus")
    result = programs.cross_check_vexp(sim="icarus", seed=4, build_root=rtl_build_root)
    assert_passed(result)


def test_compiled_gemm_on_core_verilator(rtl_build_root):
    require("verilator")
    result = programs.cross_check_gemm((64, 32, 32), sim="verilator", seed=5,
                                       build_root=rtl_build_root, compile_program=compile_gemm)
    assert_passed(result)


def test_patched_models_are_caught(rtl_build_root, monkeypatch):
    """hwsim with a systolic formula one cycle long per instruction, then with tRCD not paid on
    a row miss: the same RTL run no longer matches."""
    require("icarus")
    target = programs.load_tiny_target()
    real = unit_models.systolic_cycles
    monkeypatch.setattr("hwsim.service.systolic_cycles", lambda *a: real(*a) + 1)
    bad = programs.cross_check_gemm((16, 16, 16), build_root=rtl_build_root, target=target,
                                    compile_program=compile_gemm)
    assert not bad.cycles_match and bad.numerics_match
    assert bad.model_cycles == bad.rtl_cycles + 1
    monkeypatch.undo()
    real_params = dram_kernel.dram_params

    def no_trcd(memory, *args, **kwargs):
        params = real_params(memory, *args, **kwargs)
        params[dram_kernel.P_TRCD_S] = 0.0
        return params
    monkeypatch.setattr("hwsim.memory.dram.dram_params", no_trcd)
    monkeypatch.setattr("hwsim.memory.dram._PARAMS", {})  # params kept per memory: work anew
    bad = programs.cross_check_gemm((16, 16, 16), build_root=rtl_build_root, target=target,
                                    compile_program=compile_gemm)
    assert not bad.cycles_match and bad.model_cycles < bad.rtl_cycles
