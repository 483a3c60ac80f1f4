"""Fuzz campaigns of issue 16: zero crashes, hangs and blow-ups for every reader, and for what
the readers accept, driven on through compile and simulate.

The fast profile runs in the normal test run (a few thousand inputs in all); the slow profile
(marker `campaign`, run with HWSIM_CAMPAIGNS=1) runs the counts the issue names: >= 100,000 .hwx mutants (valid-checksum corrupt
payloads among them), >= 10,000 each for target YAML and config.json. Every campaign is seeded
(campaigns.SEED), so a run is repeatable. Set HWSIM_FUZZ_LOG to a file to append each campaign's
count line there.
"""
import os

import pytest

from tests.fuzz.campaigns import CAMPAIGNS
from tests.fuzz.harness import run_campaign

FAST = {"hwx_decoder": 1200, "hwx_simulate": 150, "target_yaml": 200, "target_simulate": 50,
        "config_json": 400, "config_compile": 50}
SLOW = {"hwx_decoder": 100_000, "hwx_simulate": 2_000, "target_yaml": 10_000,
        "target_simulate": 1_500, "config_json": 10_000, "config_compile": 2_500}


def _check(name: str, examples: int) -> None:
    tally = run_campaign(CAMPAIGNS[name], examples, name)
    line = tally.line(name)
    log = os.environ.get("HWSIM_FUZZ_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(line + "\n")
            handle.writelines(f"  {f}\n" for f in tally.failures)
    assert tally.inputs >= examples, line
    assert (tally.crashes, tally.hangs, tally.blowups) == (0, 0, 0), \
        line + "\n" + "\n".join(map(str, tally.failures))


@pytest.mark.parametrize("name", sorted(FAST))
def test_fuzz_fast(name):
    _check(name, FAST[name])


@pytest.mark.campaign
@pytest.mark.parametrize("name", sorted(SLOW))
def test_fuzz_slow(name):
    _check(name, SLOW[name])
