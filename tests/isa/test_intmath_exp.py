"""isa.intmath.exp_q15 (the VEXP integer exponential) against numpy's float exp: the stated
worst-case error holds exhaustively over int8 inputs, and the algorithm's fixed points hold."""
import math

import numpy as np
import pytest

from isa import intmath

Q = np.arange(-128, 128)


def _true(q, imm, shift):
    """2**(-u / 2**shift) in float64: the exponential of the exactly encoded input."""
    u = np.maximum(-np.asarray(q, np.float64), 0) * imm
    return np.exp2(-u / 2.0 ** shift)


@pytest.mark.parametrize("scale", [1 / 16, 1 / 8, 1 / 32, 0.05, 0.1, 0.37, 1.0, 1 / 1024])
def test_exhaustive_int8_error_bound(scale):
    imm, shift = intmath.exp_multiplier(scale)
    got = intmath.exp_q15(Q, imm, shift) / 2 ** 15
    assert np.max(np.abs(got - _true(Q, imm, shift))) <= intmath.EXP_MAX_ABS_ERROR
    # against exp(q * s) itself the multiplier's rounding adds at most |q| * |ds| * log2(e) ln 2
    ds = abs(imm / 2 ** shift / math.log2(math.e) - scale)
    bound = intmath.EXP_MAX_ABS_ERROR + 128 * ds
    assert np.max(np.abs(got - np.exp(np.minimum(Q, 0) * scale))) <= bound


def test_random_multipliers_error_bound():
    rng = np.random.default_rng(7)
    imm = rng.integers(0, intmath.EXP_IMM_LIMIT, size=4000)
    shift = rng.integers(0, intmath.EXP_MAX_SHIFT + 1, size=4000)
    q = rng.integers(-128, 128, size=4000)
    got = intmath.exp_q15(q, imm, shift) / 2 ** 15
    assert np.max(np.abs(got - _true(q, imm, shift))) <= intmath.EXP_MAX_ABS_ERROR


def test_fixed_points_by_hand():
    # x = 0: p = (32727 * 2**15 + 2**14) >> 15 = 32727
    assert intmath.exp_q15(0, 1000, 10).item() == 32727
    assert intmath.exp_q15(5, 1000, 10).item() == 32727           # q > 0 is taken as 0
    # u = 2**shift exactly: z = 1, phi = 0 -> (32727 + 1) >> 1 = 16364  (2**-1 = 0.5)
    assert intmath.exp_q15(-1, 1 << 20, 20).item() == 16364
    # z = 17 and beyond underflow to 0
    assert intmath.exp_q15(-17, 1, 0).item() == 0
    assert intmath.exp_q15(-128, intmath.EXP_IMM_LIMIT - 1, 0).item() == 0
    # zero multiplier: x = 0 everywhere
    assert set(intmath.exp_q15(Q, 0, 0).tolist()) == {32727}


def test_monotone_in_q():
    imm, shift = intmath.exp_multiplier(1 / 16)
    y = intmath.exp_q15(np.arange(-128, 1), imm, shift)
    assert np.all(np.diff(y) >= 0)


@pytest.mark.parametrize("q, imm, shift", [(128, 1, 0), (-129, 1, 0), (0, -1, 0),
                                           (0, 2 ** 24, 0), (0, 1, 32), (0, 1, -1)])
def test_out_of_range_inputs_are_refused(q, imm, shift):
    with pytest.raises(ValueError):
        intmath.exp_q15(q, imm, shift)


def test_exp_multiplier_refuses_bad_scales():
    for scale in (0.0, -1.0, math.inf, math.nan, 2.0 ** 25):
        with pytest.raises(ValueError):
            intmath.exp_multiplier(scale)
