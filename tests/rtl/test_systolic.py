"""Weight-stationary systolic array RTL (rtl_models/systolic_ws.v) vs hwsim.unit_models.
systolic_cycles and a numpy int64 matmul: every fold's cycles from the first weight beat to the
last output row equal 2R + C + m - 2, and every output is bit-exact."""
import pytest

from rtl_models.cosim import cross_check
from rtl_models.units import SYSTOLIC
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("R, C", [(1, 1), (4, 4), (3, 5), (8, 2), (16, 16)])
def test_systolic_icarus(R, C, rtl_build_root):
    require("icarus")
    result = cross_check(SYSTOLIC, {"R": R, "C": C}, sim="icarus", seed=R * 100 + C,
                         vectors=2000, build_root=rtl_build_root)
    assert result.vectors >= 2000
    assert_passed(result)


def test_systolic_verilator(rtl_build_root):
    require("verilator")
    result = cross_check(SYSTOLIC, {"R": 8, "C": 8}, sim="verilator", seed=88, vectors=3000,
                         build_root=rtl_build_root)
    assert_passed(result)
