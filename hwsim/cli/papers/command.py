"""`hwsim papers [--json] [--only C1,C5]`: run each claim's comparison through the normal
compile + simulate path, print paper value, simulated value, tolerance, pass/fail and the
ablation (the gain with the credited mechanism switched off). Also a benchmark: the wall time
goes to the table (or to stderr with --json, so the JSON stays byte-identical across runs)."""
from __future__ import annotations

import sys
import time

from hwsim.cli.common import dumps_json, emit, format_table
from hwsim.cli.papers import flightllm, mllm_npu, neupims
from hwsim.cli.papers.claim import ablation_removes_half, tolerance_text, within
from hwsim.cli.papers.runner import Runner
from hwsim.errors import HwsimError

MODULES = (flightllm, neupims, mllm_npu)


def all_claims() -> list:
    claims = [c for module in MODULES for c in module.CLAIMS]
    return sorted(claims, key=lambda c: int(c.id[1:]))


def register(commands) -> None:
    p = commands.add_parser("papers", help="reproduce the published claims (PAPERS.md) from "
                                           "live simulations, with mechanism ablations")
    p.add_argument("--json", action="store_true")
    p.add_argument("--only", help="comma-separated claim ids, e.g. C1,C5")
    p.set_defaults(run=run_papers)


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


def run_papers(args) -> int:
    claims = select(args.only)
    start = time.perf_counter()
    runner = Runner()
    rows = [evaluate(c, runner) for c in claims]
    wall_s = time.perf_counter() - start
    if args.json:
        emit(dumps_json({"claims": rows}))
        print(f"hwsim papers: {len(rows)} claims in {wall_s:.1f} s", file=sys.stderr)
    else:
        emit(table(rows) + f"\n{len(rows)} claims in {wall_s:.1f} s wall time\n")
    return 0


def _fmt(value, unit: str) -> str:
    return "-" if value is None else f"{value:.3g}{'' if unit == 'x' else ' '}{unit}"


def table(rows: list[dict]) -> str:
    headers = ["claim", "paper", "simulated", "tolerance", "result", "mechanism off",
               "ablated", "ablation"]
    body = [[r["id"], _fmt(r["paper_value"], r["unit"]), _fmt(r["simulated"], r["unit"]),
             r["tolerance"], r["status"], r["mechanism_off"] or "-",
             _fmt(r["ablated"], r["unit"]),
             {True: "gain gone", False: "gain stays", None: "no gain"}[r["ablation_removes_half_gain"]]]
            for r in rows]
    return format_table(headers, body)
