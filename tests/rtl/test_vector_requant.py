"""Vector-unit REQUANT RTL (rtl_models/vector_requant.v) vs intmath.requantize (Q31 multiplier,
shift, round half away from zero, int8 saturation) bit for bit, and every pass's cycles vs
hwsim.unit_models.vector_cycles(E, 1, lanes, 1) = ceil(E / lanes) + 1."""
import pytest

from rtl_models.cosim import cross_check
from rtl_models.units import VECTOR_REQUANT
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("lanes", [1, 4, 16])
def test_vector_requant_icarus(lanes, rtl_build_root):
    require("icarus")
    result = cross_check(VECTOR_REQUANT, {"LANES": lanes}, sim="icarus", seed=lanes,
                         vectors=3000, build_root=rtl_build_root)
    assert result.vectors >= 3000
    assert_passed(result)


def test_vector_requant_verilator(rtl_build_root):
    require("verilator")
    result = cross_check(VECTOR_REQUANT, {"LANES": 8}, sim="verilator", seed=8, vectors=5000,
                         build_root=rtl_build_root)
    assert_passed(result)
