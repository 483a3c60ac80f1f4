"""FlightLLM-style DSP chain RTL (rtl_models/dsp_chain.v) vs hwsim.unit_models.dsp_chain_cycles
and numpy int64 partial sums: dense and N:M sparse GEMMs, every GEMM's cycles from its first
beat to its last result equal folds * ceil(m/2) + L + (1 if L > 8), every result bit-exact."""
import pytest

from rtl_models.cosim import cross_check
from rtl_models.units import DSP_CHAIN
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("L, chains, sp_n, sp_m", [
    (1, 1, 1, 2),     # a single DSP
    (4, 2, 2, 4),     # 2:4 sparsity
    (8, 3, 1, 4),     # longest chain without the adjust stage; -128 x -128 fills the low field
    (12, 2, 2, 4),    # two segments + overflow-adjust stage
    (17, 1, 1, 2),    # three segments
])
def test_dsp_chain_icarus(L, chains, sp_n, sp_m, rtl_build_root):
    require("icarus")
    params = {"L": L, "CHAINS": chains, "SP_N": sp_n, "SP_M": sp_m}
    result = cross_check(DSP_CHAIN, params, sim="icarus", seed=L * 10 + chains, vectors=2000,
                         build_root=rtl_build_root)
    assert result.vectors >= 2000
    assert_passed(result)


def test_dsp_chain_verilator(rtl_build_root):
    require("verilator")
    params = {"L": 10, "CHAINS": 2, "SP_N": 2, "SP_M": 4}
    result = cross_check(DSP_CHAIN, params, sim="verilator", seed=102, vectors=3000,
                         build_root=rtl_build_root)
    assert_passed(result)
