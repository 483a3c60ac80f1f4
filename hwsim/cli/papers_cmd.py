"""`hwsim papers [--json] [--only C1,C5]`: run each claim's comparison through the normal
compile + simulate path, print paper value, simulated value, tolerance, pass/fail and the
ablation (the gain with the credited mechanism switched off). Also a benchmark: the wall time
goes to the table (or to stderr with --json, so the JSON stays byte-identical across runs)."""
from __future__ import annotations

import sys
import time

from hwsim import api
from hwsim.cli.common import dumps_json, emit, format_table


def register(commands) -> None:
    p = commands.add_parser("papers", help="reproduce the published claims (PAPERS.md) from "
                                           "live simulations, with mechanism ablations")
    p.add_argument("--json", action="store_true")
    p.add_argument("--only", help="comma-separated claim ids, e.g. C1,C5")
    p.set_defaults(run=run_papers)


def run_papers(args) -> int:
    start = time.perf_counter()
    rows = api.papers(args.only)
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
