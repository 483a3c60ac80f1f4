"""Vector-unit VMAX / VSUM RTL (rtl_models/vector_reduce.v): row-wise max and sum of rows x cols
int32 tiles streamed flat through the lanes, bit for bit against units.reduce_reference (max;
exact sum saturated to int32), and every reduction's cycles vs
hwsim.unit_models.vector_cycles(rows * cols, 1, lanes, 1) = ceil(rows * cols / lanes) + 1."""
import pytest

from rtl_models.cosim import cross_check
from rtl_models.units import VECTOR_REDUCE
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("lanes", [1, 4, 5, 16])
def test_vector_reduce_icarus(lanes, rtl_build_root):
    require("icarus")
    result = cross_check(VECTOR_REDUCE, {"LANES": lanes}, sim="icarus", seed=lanes,
                         vectors=3000, build_root=rtl_build_root)
    assert result.vectors >= 3000
    assert_passed(result)


def test_vector_reduce_verilator(rtl_build_root):
    require("verilator")
    result = cross_check(VECTOR_REDUCE, {"LANES": 8}, sim="verilator", seed=8, vectors=5000,
                         build_root=rtl_build_root)
    assert_passed(result)
