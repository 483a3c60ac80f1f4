"""Asserting a property at a point, tolerating only the violations known_violations lists.

HWSIM_INVARIANT_SURVEY=FILE: record every unknown violation to FILE (one line each) instead of
failing, to see everything a profile finds in one run (triage only; never in CI)."""
from __future__ import annotations

import os
from collections import Counter

from tests.invariants import known_violations

TOLERATED: Counter = Counter()  # reason -> violations seen this session


def holds(prop: str, point, ok: bool, detail: str) -> None:
    """Fail unless `ok`, or the violation is a known one being fixed elsewhere."""
    if ok:
        return
    why = known_violations.reason(prop, point)
    if why is not None:
        TOLERATED[why] += 1
        return
    message = f"{prop} violated at {point!r}: {detail}"
    survey = os.environ.get("HWSIM_INVARIANT_SURVEY")
    if survey:
        with open(survey, "a", encoding="utf-8") as out:
            out.write(message + "\n")
        return
    raise AssertionError(message)
