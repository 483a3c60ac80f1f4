"""The integer primitives shared with the simulator and RTL: hand-computed cases, and properties
checked against exact rational arithmetic (Python fractions)."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from isa import intmath as im

INT32 = st.integers(-(2 ** 31), 2 ** 31 - 1)
MULT = st.integers(0, 2 ** 31 - 1)
SHIFT = st.integers(0, 62)


def exact_requantize(acc: int, mult: int, shift: int, bits: int = 8) -> int:
    """round half away from zero of the exact rational acc * mult / 2**shift, saturated."""
    r = Fraction(acc * mult, 2 ** shift)
    mag = math.floor(abs(r) + Fraction(1, 2))
    v = mag if r >= 0 else -mag
    return max(-(2 ** (bits - 1)), min(2 ** (bits - 1) - 1, v))


@pytest.mark.parametrize("acc,mult,shift,want", [
    (5, 2 ** 30, 31, 3),        # 2.5 -> 3 (half away from zero, not to even)
    (-5, 2 ** 30, 31, -3),      # -2.5 -> -3
    (3, 2 ** 30, 31, 2),        # 1.5 -> 2
    (-3, 2 ** 30, 31, -2),
    (1, 2 ** 30, 31, 1),        # 0.5 -> 1
    (-1, 2 ** 30, 31, -1),
    (4, 2 ** 30, 31, 2),        # exact
    (7, 3 * 2 ** 29, 31, 5),    # 7 x 0.75 = 5.25 -> 5
    (-7, 3 * 2 ** 29, 31, -5),
    (9, 3 * 2 ** 29, 31, 7),    # 6.75 -> 7
    (1000, 2 ** 30, 30, 127),   # saturates high
    (-1000, 2 ** 30, 30, -128),  # saturates low
    (255, 2 ** 30, 31, 127),    # 127.5 -> 128 -> 127
    (-255, 2 ** 30, 31, -128),  # -127.5 -> -128 (in range)
    (-257, 2 ** 30, 31, -128),  # -128.5 -> -129 -> -128
    (7, 3, 0, 21),              # shift 0: plain product
    (0, 2 ** 31 - 1, 62, 0),
    (2 ** 31 - 1, 2 ** 31 - 1, 62, 1),  # (2^31-1)^2 / 2^62 = 1 - 2^-30 + 2^-62 -> 1
    (2 ** 30, 2 ** 30, 62, 0),          # 2^60 / 2^62 = 0.25 -> 0
])
def test_requantize_hand_cases(acc, mult, shift, want):
    assert int(im.requantize(np.array([acc]), mult, shift)[0]) == want
    assert exact_requantize(acc, mult, shift) == want


def test_requantize_per_channel_broadcast():
    acc = np.array([[10, 10, 10], [-10, -10, -10]])
    mult = np.array([2 ** 30, 2 ** 30, 3 * 2 ** 29])
    shift = np.array([31, 32, 31])
    got = im.requantize(acc, mult, shift)
    np.testing.assert_array_equal(got, [[5, 3, 8], [-5, -3, -8]])   # 5, 2.5, 7.5
    assert got.dtype == np.int8


def test_requantize_rejects_out_of_range_operands():
    with pytest.raises(ValueError, match="outside the int32 range"):
        im.requantize(np.array([2 ** 31]), 1, 0)
    with pytest.raises(ValueError, match=r"multiplier must be in \[0, 2\*\*31\)"):
        im.requantize(np.array([1]), 2 ** 31, 0)
    with pytest.raises(ValueError, match="shift in"):
        im.requantize(np.array([1]), 1, 63)


@settings(max_examples=300, deadline=None)
@given(acc=st.lists(INT32, min_size=1, max_size=8), mult=MULT, shift=SHIFT,
       bits=st.sampled_from([8, 4, 16, 32]))
def test_requantize_equals_exact_rational_rounding(acc, mult, shift, bits):
    got = im.requantize(np.array(acc, dtype=np.int64), mult, shift, bits)
    assert [int(v) for v in got] == [exact_requantize(a, mult, shift, bits) for a in acc]


@pytest.mark.parametrize("real,want", [(0.5, (2 ** 30, 31)), (1.0, (2 ** 30, 30)),
                                       (0.75, (3 * 2 ** 29, 31)), (0.0, (0, 0)),
                                       (2.0 ** -40, (2 ** 22, 62))])
def test_quantize_multiplier_hand_cases(real, want):
    # 2^-40 = 0.5 x 2^-39: shift 31 + 39 = 70 is brought to 62 by mult 2^30 / 2^8
    assert im.quantize_multiplier(real) == want


@settings(max_examples=200, deadline=None)
@given(real=st.floats(min_value=2.0 ** -30, max_value=2.0 ** 20, allow_nan=False))
def test_quantize_multiplier_is_close_and_normalized(real):
    mult, shift = im.quantize_multiplier(real)
    assert 2 ** 30 <= mult < 2 ** 31 and 0 <= shift <= 62
    assert abs(Fraction(mult, 2 ** shift) - Fraction(real)) <= Fraction(real) * Fraction(1, 2 ** 30)


def test_quantize_multiplier_errors():
    for bad in (-1.0, float("nan"), float("inf"), 2.0 ** 31):
        with pytest.raises(ValueError):
            im.quantize_multiplier(bad)


def test_quantize_rounding_and_saturation():
    q = im.quantize(np.array([0.5, -0.5, 1.5, -2.5, 200.0, -200.0, 0.49]), 1.0, 8)
    np.testing.assert_array_equal(q, [1, -1, 2, -3, 127, -128, 0])
    np.testing.assert_array_equal(im.quantize(np.array([9.0, -9.0, 7.4]), 1.0, 4), [7, -8, 7])
    assert im.quantize(np.array([-np.inf]), 0.1, 8)[0] == -128
    assert im.scale_for(0.0, 8) == 1.0 and im.scale_for(127.0, 8) == 1.0
    np.testing.assert_array_equal(im.div_round_half_away(np.array([5, -5, 7, -7, 6]), 2),
                                  [3, -3, 4, -4, 3])


FLOATS = st.floats(-1e3, 1e3, allow_nan=False, width=32)


def weights(draw_shape):
    return arrays(np.float32, draw_shape, elements=FLOATS)


def assert_within_half_scale(w, scale, bits):
    q = im.quantize(w, scale, bits)
    assert q.min() >= -(2 ** (bits - 1)) and q.max() <= 2 ** (bits - 1) - 1
    err = np.abs(im.dequantize(q, scale).astype(np.float64) - w)
    # scale / 2 from rounding, plus the one float32 rounding of the dequantizing multiply
    bound = scale.astype(np.float64) / 2 + np.abs(w) * 2.0 ** -23 + 1e-30
    assert np.all(err <= bound)


@settings(max_examples=100, deadline=None)
@given(w=weights(st.tuples(st.integers(1, 40), st.integers(1, 6))), bits=st.sampled_from([8, 4]))
def test_per_channel_quantize_error_is_at_most_half_a_step(w, bits):
    scale = im.channel_scales(w, bits)
    assert scale.shape == (1, w.shape[1])
    assert_within_half_scale(w, scale, bits)


@settings(max_examples=100, deadline=None)
@given(w=weights(st.tuples(st.integers(1, 3), st.integers(1, 70), st.integers(1, 5))),
       group=st.sampled_from([1, 4, 16, 32]), bits=st.sampled_from([8, 4]))
def test_per_group_quantize_error_is_at_most_half_a_step(w, group, bits):
    per_group = im.group_scales(w, bits, group)
    assert per_group.shape == (w.shape[0], -(-w.shape[1] // group), w.shape[2])
    assert_within_half_scale(w, im.expand_groups(per_group, group, w.shape[1]), bits)


@settings(max_examples=100, deadline=None)
@given(w=weights(st.tuples(st.integers(1, 70), st.integers(1, 5))),
       group=st.sampled_from([4, 16, 32]))
def test_two_level_int4_reconstruction(w, group):
    q4, g, s_ch = im.quantize_two_level(w, group)
    assert q4.min() >= -7 and q4.max() <= 7 and g.min() >= 1 and g.max() <= 19
    w8 = im.quantize(w, s_ch, 8).astype(np.int64)
    integer = q4.astype(np.int64) * im.expand_groups(g, group, w.shape[0])
    assert np.all(np.abs(integer - w8) <= im.expand_groups(g, group, w.shape[0]) / 2)
    # two roundings: int8 grid (s/2) then int4 over it (g s / 2)
    err = np.abs(integer * s_ch.astype(np.float64) - w)
    assert np.all(err <= (im.expand_groups(g, group, w.shape[0]) + 1) * s_ch / 2 * (1 + 1e-6))
