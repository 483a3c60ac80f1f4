"""PAPERS.md's tolerance rules and the ablation rule, on hand-picked values at their edges."""
import pytest

from hwsim.api.papers.claim import (ABSOLUTE, AT_LEAST, GAIN, RANGE, RATIO, Claim, Measurement,
                                    ablation_removes_half, within)


def claim(rule, value, **kw):
    return Claim("C0", "paper", "quote", value, rule, "mechanisms.x=false", lambda r: None, **kw)


@pytest.mark.parametrize("simulated, ok", [(2.25, True), (3.75, True), (2.24, False),
                                           (3.76, False)])
def test_ratio_of_at_least_two_is_within_25_percent(simulated, ok):
    assert within(claim(RATIO, 3.0), Measurement(simulated)) is ok


@pytest.mark.parametrize("simulated, ok", [(1.48, True), (2.12, True), (1.47, False),
                                           (2.13, False)])
def test_ratio_below_two_has_its_gain_within_40_percent(simulated, ok):
    # gain 0.8 +- 0.32 -> r in [1.48, 2.12]
    assert within(claim(GAIN, 1.8), Measurement(simulated)) is ok


def test_small_gain_must_stay_above_one():
    # paper 1.2x: gain 0.2 +- 0.08 -> [1.12, 1.28]; r <= 1 never passes
    assert within(claim(GAIN, 1.2), Measurement(1.13))
    assert not within(claim(GAIN, 1.2), Measurement(1.0))


@pytest.mark.parametrize("simulated, ok", [(21.5, True), (39.9, True), (21.4, False), (40.0, False)])
def test_absolute_is_within_30_percent(simulated, ok):
    assert within(claim(ABSOLUTE, 30.7), Measurement(simulated)) is ok


@pytest.mark.parametrize("simulated, ok", [(1000, True), (1300, True), (999, False),
                                           (1301, False)])
def test_at_least_the_figure_and_at_most_1_3_times(simulated, ok):
    assert within(claim(AT_LEAST, 1000.0, unit="tok/s"), Measurement(simulated)) is ok


def test_range_overlaps_with_each_endpoint_within_25_percent():
    c = claim(RANGE, 3.0, paper_range=(2.35, 3.47))
    assert within(c, Measurement(3.0, value_range=(2.0, 4.0)))       # 2.0 >= 1.7625, 4.0 <= 4.3375
    assert not within(c, Measurement(3.0, value_range=(1.7, 3.4)))   # low end 28 % off


def test_ablation_must_remove_half_of_the_gain():
    assert ablation_removes_half(Measurement(3.0, ablated=2.0)) is True     # gain 2 -> 1
    assert ablation_removes_half(Measurement(3.0, ablated=2.01)) is False
    assert ablation_removes_half(Measurement(0.9, ablated=0.5)) is None     # no gain to remove
    assert ablation_removes_half(Measurement(1000.0)) is None               # no ablation
