"""Vector-unit VEXP RTL (rtl_models/vector_exp.v) vs isa.intmath.exp_q15 bit for bit (every
int8 input at two softmax scales, extreme multipliers, thousands of seeded random vectors), and
every pass's cycles vs hwsim.unit_models.vector_cycles(E, 1 pass, lanes, 1) = ceil(E / lanes) + 1;
a model with the wrong rounding (truncating 2^-z) or a wrong pipeline depth fails the check."""
import numpy as np
import pytest

from hwsim import unit_models
from isa import intmath
from rtl_models.cosim import cross_check
from rtl_models.units_exp import VECTOR_EXP
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("lanes", [1, 4, 16])
def test_vector_exp_icarus(lanes, rtl_build_root):
    require("icarus")
    result = cross_check(VECTOR_EXP, {"LANES": lanes}, sim="icarus", seed=lanes + 100,
                         vectors=3000, build_root=rtl_build_root)
    assert result.vectors >= 3000
    assert_passed(result)


def test_vector_exp_verilator(rtl_build_root):
    require("verilator")
    result = cross_check(VECTOR_EXP, {"LANES": 8}, sim="verilator", seed=108, vectors=5000,
                         build_root=rtl_build_root)
    assert_passed(result)


def _exp_truncating(q, imm, shift):
    """2^-z by a plain right shift (no rounding term): a plausible wrong implementation."""
    q, imm, shift = (np.asarray(v, np.int64) for v in (q, imm, shift))
    u = np.maximum(-q, 0) * imm
    z = np.right_shift(u, shift)
    f = u - np.left_shift(z, shift)
    phi = np.where(shift >= 15, np.right_shift(f, np.maximum(shift - 15, 0)),
                   np.left_shift(f, np.maximum(15 - shift, 0)))
    sq = np.right_shift(phi * phi, 15)
    p = np.right_shift(intmath.EXP_C0 * 2 ** 15 + intmath.EXP_C1 * phi + intmath.EXP_C2 * sq
                       + 2 ** 14, 15)
    return np.right_shift(p, np.minimum(z, 20))


def test_wrong_exp_rounding_or_depth_is_caught(rtl_build_root, monkeypatch):
    require("icarus")
    monkeypatch.setattr(intmath, "exp_q15", _exp_truncating)
    bad = cross_check(VECTOR_EXP, {"LANES": 4}, vectors=500, build_root=rtl_build_root)
    assert bad.cycles_match and not bad.numerics_match
    monkeypatch.undo()
    real = unit_models.vector_cycles
    monkeypatch.setattr(unit_models, "vector_cycles", lambda e, p, l, r: real(e, p, l, r) + 1)
    bad = cross_check(VECTOR_EXP, {"LANES": 4}, vectors=500, build_root=rtl_build_root)
    assert bad.numerics_match and not bad.cycles_match
