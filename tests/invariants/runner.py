"""The one adapter between the invariant suite and the simulator: every property runs the
simulator through `simulate` and `roofline` below and nowhere else. They call the flows
behind `hwsim.api.simulate` / `hwsim.api.roofline` (and so `simulate --json` / `roofline
--json`) directly, because the suite also drives fields the public call does not take yet
(per-sequence `contexts`).

A run is the CLI's `simulate --json` (or `roofline --json`) result dict, or a `Refusal`: the
one-line user error the CLI would print (exit status 2). Results are cached per process by
their full inputs (the simulator is deterministic), so properties that compare two runs share
the runs they have in common.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import targets
from compiler.errors import CompilerError
from compiler.ir.workload import Workload
from hwsim.errors import HwsimError
from isa import IsaError

USER_ERRORS = (HwsimError, IsaError, targets.TargetError, CompilerError)
_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="hwsim-invariants-"))


@dataclass(frozen=True)
class Refusal:
    """A run the simulator refused with one line (the CLI's exit status 2)."""

    message: str


def model_path(config: dict) -> str:
    """A random HF config as a config.json path (content-addressed, written once), so it goes
    through the same front end as a user's file."""
    text = json.dumps(config, sort_keys=True)
    path = _CONFIG_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return str(path)


def _workload(workload: tuple) -> Workload:
    return Workload(**dict(workload))


@lru_cache(maxsize=4096)
def load(target: str, overrides: tuple = ()):
    return targets.load_target(target, list(overrides))


@lru_cache(maxsize=4096)
def simulate(model: str, target: str, overrides: tuple, workload: tuple):
    """`hwsim simulate MODEL -t TARGET --set ... [workload] --json` as a dict, or a Refusal.
    `workload`: sorted (field, value) pairs of compiler.ir.workload.Workload."""
    from hwsim.api.flows.run_model import simulate_model  # what hwsim.api.simulate runs
    try:
        return simulate_model(model, _workload(workload), load(target, overrides))
    except USER_ERRORS as err:
        return Refusal(" ".join(str(err).split()))


@lru_cache(maxsize=4096)
def roofline(model: str, target: str, overrides: tuple, workload: tuple):
    """`hwsim roofline MODEL -t TARGET ... --json` as a dict, or a Refusal."""
    from hwsim.api.flows.roofline import roofline_report  # what hwsim.api.roofline runs
    try:
        return roofline_report(model, _workload(workload), load(target, overrides))
    except USER_ERRORS as err:
        return Refusal(" ".join(str(err).split()))


def is_refusal(result) -> bool:
    return isinstance(result, Refusal)
