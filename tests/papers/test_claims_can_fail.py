"""Every claim's test pins something that can fail (issue 18, "Tests that cannot fail").

The older papers tests accepted any simulated value for a claim marked not reproduced
(`within_tolerance or reason`): multiplying C1-C3 and C7-C10's paper figures by 10-100x still
passed. Here, for every claim:
- the paper figure is the published one (PAPERS.md, typed here, not read from the code);
- the tolerance verdict is recomputed with PAPERS.md's rules written out again here, and
  `reproduced` requires the ablation rule too (switching the credited mechanism off removes at
  least half of the simulated gain), as docs/papers.md defines it;
- the direction of the gain: the paper's system beats its baseline in simulation (a ratio > 1;
  C2 did not until the GEMV stream tiles, 0.98x -> 1.07x, and its ablation check was vacuous),
  and switching the credited mechanisms off never helps;
- the ablation rule itself on claims with a gain: C8's ablation removes less than half of its
  gain (outlier handling and out-of-order scheduling do not carry its energy saving), which is
  recorded as a strict expected failure so a change either way is noticed.
Values of C4-C10 may move with the NeuPIMs and mobile-NPU models; none is pinned exactly.
"""
from __future__ import annotations

import pytest

from hwsim.api.papers import flightllm, mllm_npu, neupims
from hwsim.api.papers.evaluate import evaluate
from hwsim.api.papers.runner import Runner

# PAPERS.md, class (a) claims: the figure each paper states
PUBLISHED = {"C1": 6.0, "C2": 1.8, "C3": 1.2, "C4": 3.0, "C5": 2.4, "C6": 1.6, "C7": 22.4,
             "C8": 30.7, "C9": 32.8, "C10": 1000.0}
ALL_CLAIMS = {c.id: c for c in flightllm.CLAIMS + neupims.CLAIMS + mllm_npu.CLAIMS}
ABSOLUTE_RATE = {"C10"}         # tokens/s, not a ratio against a baseline


def _within(rule: str, paper: float, v: float, row: dict) -> bool:
    """PAPERS.md's tolerance rules, written out independently of claim.within."""
    if rule == "ratio":
        return 0.75 * paper <= v <= 1.25 * paper
    if rule == "gain":
        return v > 1 and 0.6 * (paper - 1) <= v - 1 <= 1.4 * (paper - 1)
    if rule == "absolute":
        return 0.7 * paper <= v <= 1.3 * paper
    if rule == "at_least":
        return paper <= v <= ALL_CLAIMS[row["id"]].upper_factor * paper
    lo, hi = row["paper_range"]
    s_lo, s_hi = row["simulated_range"]
    return abs(s_lo - lo) <= 0.25 * lo and abs(s_hi - hi) <= 0.25 * hi


def test_paper_figures_are_the_published_ones():
    assert sorted(ALL_CLAIMS, key=lambda c: int(c[1:])) == list(PUBLISHED)
    for cid, claim in ALL_CLAIMS.items():
        assert claim.paper_value == PUBLISHED[cid], cid


def _rows(claims) -> dict:
    runner = Runner()
    return {c.id: evaluate(c, runner) for c in claims}


@pytest.fixture(scope="module")
def fast_rows():
    return _rows(neupims.CLAIMS + mllm_npu.CLAIMS)


def _check_row(row: dict) -> None:
    cid = row["id"]
    claim = ALL_CLAIMS[cid]
    v, ablated = row["simulated"], row["ablated"]
    assert row["paper_value"] == PUBLISHED[cid]
    ok = _within(claim.rule, PUBLISHED[cid], v, row)
    assert row["within_tolerance"] is ok, (cid, v)
    removes_half = None if ablated is None or v <= 1 else (ablated - 1) <= 0.5 * (v - 1)
    assert row["ablation_removes_half_gain"] is removes_half, cid
    assert row["status"] == ("reproduced" if ok and removes_half is not False
                             else "not reproduced"), cid
    assert row["status"] == "reproduced" or row["reason"], cid
    # the direction: the paper's system beats its baseline, and the credited mechanisms help
    if cid not in ABSOLUTE_RATE:
        assert v > 1, (cid, v)
    assert ablated is not None and ablated < v, (cid, v, ablated)


@pytest.mark.parametrize("cid", ["C4", "C5", "C6", "C7", "C8", "C9", "C10"])
def test_verdict_direction_and_ablation(fast_rows, cid):
    _check_row(fast_rows[cid])


@pytest.mark.parametrize("cid", ["C5", "C6", "C7", "C9", "C10",
                                 pytest.param("C8", marks=pytest.mark.xfail(
                                     strict=True, reason="C8's ablation removes less than half "
                                     "of its energy gain (docs/papers/mllm-npu.md)"))])
def test_switching_the_credited_mechanisms_off_removes_half_the_gain(fast_rows, cid):
    row = fast_rows[cid]
    v, ablated = row["simulated"], row["ablated"]
    assert v > 1 and ablated - 1 <= 0.5 * (v - 1), (cid, v, ablated)


@pytest.mark.slow
def test_flightllm_claims_verdict_direction_and_ablation():
    rows = _rows(flightllm.CLAIMS)
    for row in rows.values():
        _check_row(row)
    # C2 is FlightLLM's throughput ratio times the price ratio, and its gain must be carried by
    # the credited mechanisms like C1's and C3's
    import targets
    c2, d = rows["C2"], rows["C2"]["details"]
    price = {n: targets.load_target(n).cost.price_usd for n in ("flightllm-u280", "v100s")}
    assert c2["simulated"] == pytest.approx(
        d["flightllm-u280_tokens_per_s"] / d["v100s_tokens_per_s"]
        * price["v100s"] / price["flightllm-u280"], rel=1e-12)
    for cid in ("C1", "C2", "C3"):
        assert rows[cid]["ablation_removes_half_gain"] is True, cid
