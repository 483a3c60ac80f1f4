"""Bounds on one run: utilisations are busy fractions, energy components are non-negative and
add up, the roofline is a lower bound, and `simulate` and `roofline` agree on it."""
from __future__ import annotations

import math

import pytest
from hypothesis import given

from tests.invariants import profiles
from tests.invariants.check import holds
from tests.invariants.runner import is_refusal
from tests.invariants.strategies import points

REL = 1e-9  # float summation slack


def check_bounds(point) -> None:
    result = point.run()
    if is_refusal(result):
        return
    seconds = result["seconds"]
    assert seconds > 0 and math.isfinite(seconds), f"seconds {seconds} at {point!r}"
    for unit, u in result["utilization"].items():
        holds("utilisation", point, 0.0 <= u <= 1.0 + REL, f"{unit} utilisation {u}")
    breakdown = result["energy_breakdown_j"]
    for part, joules in breakdown.items():
        holds("energy", point, joules >= 0.0, f"energy component {part} = {joules} J")
    total = sum(breakdown.values())
    holds("energy", point, math.isclose(total, result["energy_j"], rel_tol=1e-9),
          f"energy_breakdown_j sums to {total}, energy_j is {result['energy_j']}")
    holds("roofline", point, result["roofline_seconds"] <= seconds * (1 + REL),
          f"roofline_seconds {result['roofline_seconds']} > seconds {seconds}")
    if point.fields["phase"] != "generate":
        check_roofline_agreement(point, result)


def check_roofline_agreement(point, result) -> None:
    """`hwsim roofline` sums each op's max(work / peak, bytes / bandwidth) (ops in sequence);
    `simulate`'s roofline_seconds is the busiest resource's total work / peak (ops overlapped).
    Over the same work counts, max_r sum_ops t(op, r) <= sum_ops max_r t(op, r) <=
    R x max_r sum_ops t(op, r), R the resources in use: so the program bound may not exceed the
    analytical one, and the analytical one may not exceed R times the program bound. AGREE
    allows for the two counting tiles' rounding differently."""
    analytical = point.roofline()
    if is_refusal(analytical):
        holds("roofline_agree", point, False, f"simulate ran, roofline refused: "
                                              f"{analytical.message}")
        return
    program = result["roofline_seconds"]
    resources = sum(1 for t in result["_detail"]["roofline"]["per_resource_s"].values() if t > 0) \
        if "_detail" in result else 2
    analytic = analytical["roofline_s"]
    holds("roofline_agree", point, program <= analytic * (1 + AGREE),
          f"simulate's roofline {program} s exceeds roofline's {analytic} s")
    holds("roofline_agree", point, analytic <= resources * program * (1 + AGREE),
          f"roofline's {analytic} s exceeds {resources} resources x simulate's {program} s")


AGREE = 0.02


@profiles.fast(60)
@given(point=points())
def test_bounds(point):
    check_bounds(point)


@pytest.mark.campaign
@profiles.slow(1000)
@given(point=points())
def test_bounds_slow(point):
    check_bounds(point)
