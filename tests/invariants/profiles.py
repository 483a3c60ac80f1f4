"""Hypothesis settings of the invariant suite: a seeded fast profile for the normal test run
and a `campaign` profile (thousands of examples), skipped unless asked for:
`HWSIM_CAMPAIGNS=1 pytest -m campaign tests/invariants`.

Both derandomize (the examples are a fixed function of the test), keep no example database
(a run never depends on an earlier one) and have no deadline (the first run of a target pays
numba's compile). HWSIM_INVARIANT_EXAMPLES=N overrides the slow profile's count per test.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(derandomize=True, database=None, deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])


def fast(examples: int) -> settings:
    return settings(max_examples=examples, **_COMMON)


def slow(examples: int = 600) -> settings:
    return settings(max_examples=int(os.environ.get("HWSIM_INVARIANT_EXAMPLES", examples)),
                    **_COMMON)
