"""`hwsim simulate MODEL|prog.hwx -t TARGET [workload] [--json] [--trace F] [--csv F]` and
`hwsim roofline MODEL -t TARGET [workload] [--json] [--plot F]`."""
from __future__ import annotations

from hwsim import api
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, si
from hwsim.cli.sim_report import simulate_table
from hwsim.cli.workload_args import add_workload_args, workload_fields
from hwsim.errors import HwsimError


def register(commands) -> None:
    sim = commands.add_parser("simulate", help="simulate a model or a .hwx on a target")
    sim.add_argument("model", help="zoo name, HF config.json, or a compiled .hwx")
    sim.add_argument("-t", "--target", required=True)
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--trace", help="write a Chrome / Perfetto trace (JSON) here")
    sim.add_argument("--csv", help="write one CSV row per op here")
    sim.add_argument("--check", action="store_true",
                     help="run functional mode and compare with the numpy reference")
    add_workload_args(sim)
    add_target_overrides(sim)
    sim.set_defaults(run=run_simulate)

    roof = commands.add_parser("roofline", help="analytical roofline bound of a model")
    roof.add_argument("model")
    roof.add_argument("-t", "--target", required=True)
    roof.add_argument("--json", action="store_true")
    roof.add_argument("--plot", help="write a roofline plot (PNG) here")
    add_workload_args(roof)
    add_target_overrides(roof)
    roof.set_defaults(run=run_roofline)


def run_simulate(args) -> int:
    """Exit 0; with --check, 1 when functional mode and the reference differ."""
    fields = workload_fields(args)
    if args.check and args.model.endswith(".hwx"):
        raise HwsimError("--check needs the model (weights come from the reference), not a .hwx")
    result = api.simulate(args.model, args.target, overrides=args.overrides, **fields)
    out = result.to_dict()
    if args.check:
        out["check"] = api.check(args.model, args.target, overrides=args.overrides, **fields)
    for flag, name in (("trace", "--trace"), ("csv", "--csv")):
        if getattr(args, flag) and result.detail is None:
            raise HwsimError(f"{name} is not available for --phase {result.phase}")
    from hwsim import report
    from isa import write_atomic
    if args.trace:
        write_atomic(args.trace, report.chrome_trace(result._internal()).encode("utf-8"))
    if args.csv:
        write_atomic(args.csv, report.per_op_csv(result._internal()).encode("utf-8"))
    if args.json:
        emit(dumps_json(out))
    else:
        emit(simulate_table(result, api.explain(result, args.target, args.overrides))
             + _check_line(out))
    return 1 if "check" in out and not out["check"]["bit_exact"] else 0


def _check_line(result: dict) -> str:
    if "check" not in result:
        return ""
    c = result["check"]
    bad = sum(v["mismatches"] for v in c["compared"].values())
    total = sum(v["elements"] for v in c["compared"].values())
    verdict = "bit-exact" if c["bit_exact"] else f"{bad} of {total} elements differ"
    return (f"\nfunctional check vs the integer reference: {verdict} "
            f"({', '.join(sorted(c['compared']))}; {total} elements)\n")


def run_roofline(args) -> int:
    record = api.roofline(args.model, args.target, overrides=args.overrides,
                          **workload_fields(args))
    result = record.to_dict()
    if args.plot:
        from hwsim.plot import roofline_png
        from isa import write_atomic
        write_atomic(args.plot, roofline_png(result, api.load_target(args.target,
                                                                     args.overrides)))
    if args.json:
        emit(dumps_json(result))
        return 0
    emit(f"{result['model']} on {result['target']} ({result['phase']}, batch {result['batch']},"
         f" {result['quant']}): roofline {result['roofline_s'] * 1e3:.3f} ms, "
         f"{result['tokens_per_s']:.1f} tokens/s, {result['bound']}-bound\n")
    top = sorted(result["ops"], key=lambda r: -r["roofline_s"])[:8]
    emit(format_table(["op", "unit", "FLOPs", "bytes", "bound", "time"],
                      [[r["name"], r["unit"] or "-", si(r["flops"], "FLOP"), si(r["bytes"], "B"),
                        r["bound"], f"{r['roofline_s'] * 1e6:.1f} us"] for r in top]))
    return 0
