"""Select the claims, measure each through the normal compile + simulate path and judge it by
PAPERS.md's tolerance rules and its ablation."""
from __future__ import annotations

from hwsim.api.flows.run_model import step_memo
from hwsim.api.papers import flightllm, mllm_npu, neupims
from hwsim.api.papers.claim import ablation_removes_half, tolerance_text, within
from hwsim.api.papers.runner import Runner
from hwsim.errors import HwsimError

MODULES = (flightllm, neupims, mllm_npu)


def all_claims() -> list:
    claims = [c for module in MODULES for c in module.CLAIMS]
    return sorted(claims, key=lambda c: int(c.id[1:]))


def select(only: str | None) -> list:
    claims = all_claims()
    if not only:
        return claims
    known = {c.id: c for c in claims}
    wanted = [x.strip().upper() for x in only.split(",") if x.strip()]
    unknown = [x for x in wanted if x not in known]
    if unknown:
        raise HwsimError(f"unknown claim id(s) {', '.join(unknown)} (known: "
                         f"{', '.join(known) or 'none yet'})")
    return [known[x] for x in wanted]


def evaluate(claim, runner: Runner) -> dict:
    m = claim.measure(runner)
    ok = within(claim, m)
    ablation = ablation_removes_half(m)
    return {"id": claim.id, "paper": claim.paper, "quote": claim.quote,
            "paper_value": claim.paper_value, "paper_range": claim.paper_range,
            "unit": claim.unit, "simulated": m.value, "simulated_range": m.value_range,
            "tolerance": tolerance_text(claim), "within_tolerance": ok,
            "status": "reproduced" if ok and ablation is not False else "not reproduced",
            "mechanism_off": claim.mechanism, "ablated": m.ablated,
            "ablation_removes_half_gain": ablation,
            "reason": "" if ok and ablation is not False else claim.reason_if_missed,
            "details": m.details}


def papers(only: str | None = None) -> list[dict]:
    """One row per claim (all, or the comma-separated ids in `only`), from live simulations."""
    runner = Runner()
    with step_memo():  # identical compiled steps across claims run once (run_model.step_memo)
        return [evaluate(c, runner) for c in select(only)]
