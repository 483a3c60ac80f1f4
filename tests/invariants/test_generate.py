"""generate = prefill, then decode: its TTFT is the prefill phase's seconds for the same prompt,
and its TPOT lies between the first and the last decode steps' seconds (contexts seq and
seq + gen - 1), give or take MAPPING_SLACK: decode time is not exactly monotone in the context
(DRAM address mapping, tests/invariants/test_monotone.py), so the middle sample of the TPOT
average can lie a little outside its ends."""
from __future__ import annotations

import math

import pytest
from hypothesis import given

from tests.invariants import profiles
from tests.invariants.check import holds
from tests.invariants.runner import is_refusal
from tests.invariants.strategies import points
from tests.invariants.test_monotone import MAPPING_SLACK

REL = 1e-9


def check_generate(point) -> None:
    gen = point.run()
    if is_refusal(gen):
        return
    w = point.fields
    prefill = point.run(phase="prefill")
    first = point.run(phase="decode", context=w["seq"])
    last = point.run(phase="decode", context=w["seq"] + w["gen"] - 1)
    for name, r in (("prefill", prefill), ("first decode", first), ("last decode", last)):
        holds("ttft" if name == "prefill" else "tpot", point, not is_refusal(r),
              f"generate runs but its {name} step is refused: {getattr(r, 'message', '')}")
        if is_refusal(r):
            return
    holds("ttft", point, math.isclose(gen["ttft_s"], prefill["seconds"], rel_tol=REL),
          f"ttft_s {gen['ttft_s']} but --phase prefill takes {prefill['seconds']} s")
    lo, hi = sorted((first["seconds"], last["seconds"]))
    holds("tpot", point, lo * (1 - MAPPING_SLACK) <= gen["tpot_s"] <= hi * (1 + MAPPING_SLACK),
          f"tpot_s {gen['tpot_s']} outside the decode steps [{lo}, {hi}] s")


@profiles.fast(20)
@given(point=points(phases=("generate",)))
def test_generate_is_prefill_then_decode(point):
    check_generate(point)


@pytest.mark.campaign
@profiles.slow(400)
@given(point=points(phases=("generate",)))
def test_generate_is_prefill_then_decode_slow(point):
    check_generate(point)
