"""A published claim, how it is measured through the normal compile + simulate path, and the
tolerance rules of PAPERS.md.

A claim's `measure(run)` returns a Measurement: the simulated value with every mechanism on,
the same comparison with the credited mechanism switched off by `--set` (the ablation), and
the details a reader needs (the two throughputs behind a ratio, the settings used). Nothing
here stores a result: every number comes from a live simulation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# PAPERS.md "Tolerance (std)" rules, by name
RATIO = "ratio"          # ratio >= 2: within +-25 %
GAIN = "gain"            # ratio < 2: gain r - 1 within +-40 % and r > 1
ABSOLUTE = "absolute"    # energy, cost, absolute tok/s, "up to" maxima: within +-30 %
AT_LEAST = "at_least"    # at least the paper's figure, at most `upper_factor` times it
RANGE = "range"          # simulated range overlaps [lo, hi], each endpoint within +-25 %


@dataclass(frozen=True)
class Measurement:
    value: float                    # the simulated figure compared with the paper's
    ablated: float | None = None    # the same figure with the credited mechanism off
    details: dict = field(default_factory=dict)
    value_range: tuple[float, float] | None = None  # for RANGE claims


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    quote: str
    paper_value: float
    rule: str
    mechanism: str                  # the --set keys that switch the credited mechanism off
    measure: Callable                # (Runner) -> Measurement
    unit: str = "x"
    paper_range: tuple[float, float] | None = None
    upper_factor: float = 1.3
    reason_if_missed: str = ""       # why we differ, when we do (also in docs/papers.md)


def tolerance_text(claim: Claim) -> str:
    return {RATIO: "+-25 %", GAIN: "gain +-40 %, r > 1", ABSOLUTE: "+-30 %",
            AT_LEAST: f">= paper, <= {claim.upper_factor:g}x paper",
            RANGE: "overlap, endpoints +-25 %"}[claim.rule]


def within(claim: Claim, m: Measurement) -> bool:
    """PAPERS.md's tolerance rule for this claim."""
    p, v = claim.paper_value, m.value
    if claim.rule == RATIO:
        return abs(v - p) <= 0.25 * p
    if claim.rule == GAIN:
        return v > 1 and abs((v - 1) - (p - 1)) <= 0.4 * (p - 1)
    if claim.rule == ABSOLUTE:
        return abs(v - p) <= 0.3 * p
    if claim.rule == AT_LEAST:
        return p <= v <= claim.upper_factor * p
    if claim.rule == RANGE:
        lo, hi = claim.paper_range
        s_lo, s_hi = m.value_range
        return (s_lo <= hi and s_hi >= lo and abs(s_lo - lo) <= 0.25 * lo
                and abs(s_hi - hi) <= 0.25 * hi)
    raise ValueError(f"unknown tolerance rule {claim.rule!r}")


def ablation_removes_half(m: Measurement) -> bool | None:
    """Switching the credited mechanism off removes at least half of the simulated gain
    (gain = value - 1 for ratios). None when there is nothing to remove: the claim has no
    ablation, or the simulation shows no gain (value <= 1)."""
    if m.ablated is None or m.value <= 1.0:
        return None
    gain, left = m.value - 1.0, m.ablated - 1.0
    return left <= 0.5 * gain
