"""`hwsim validate [--json] [--only ID,...]`: simulated against published measurements on real
hardware (hwsim.api.flows.validation), with a summary per target."""
from __future__ import annotations

from hwsim import api
from hwsim.cli.common import dumps_json, emit, format_table


def register(commands) -> None:
    p = commands.add_parser("validate", help="simulate the published measurements on real "
                                             "hardware (hwsim/validation/*.yaml) and compare")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--only", help="comma-separated row ids")
    p.set_defaults(run=run_validate)


def run_validate(args) -> int:
    report = api.validate(args.only)
    emit(dumps_json(report) if args.json else table(report))
    return 0


def _num(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def table(report: dict) -> str:
    body = [[r["id"], r["use"][:5], r["metric"], f"{_num(r['measured'])} {r['unit']}",
             "-" if r["simulated"] is None else f"{_num(r['simulated'])} {r['unit']}",
             _num(r["ratio"]), f"{r['tolerance_fraction']:.0%}",
             r["status"] + (f": {r['reason']}" if r["reason"] else "")]
            for r in report["rows"]]
    text = format_table(["row", "use", "metric", "measured", "simulated", "sim/meas", "tol",
                         "status"], body)
    s = report["summary"]
    lines = ["", "validation rows (calibration rows not counted): median |error|, worst row"]
    for name, st in [("all", s["overall"]), *sorted(s["per_target"].items())]:
        if st["rows"]:
            lines.append(f"  {name}: {st['rows']} rows, median |error| "
                         f"{st['median_abs_error_fraction']:.1%}, worst {st['worst_id']} "
                         f"({st['worst_error_fraction']:+.1%})")
    c = s["counts"]
    lines.append(f"  validation rows: {c['validation_within']} within tolerance, "
                 f"{c['validation_outside']} outside, {c['validation_refused']} refused; "
                 f"calibration rows: {c['calibration_within']} within, "
                 f"{c['calibration_outside']} outside, {c['calibration_refused']} refused")
    return text + "\n".join(lines) + "\n"
