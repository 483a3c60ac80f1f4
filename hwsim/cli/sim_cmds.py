"""`hwsim simulate MODEL|prog.hwx -t TARGET [workload] [--json] [--trace F] [--csv F]` and
`hwsim roofline MODEL -t TARGET [workload] [--json] [--plot F]`."""
from __future__ import annotations

from compiler.frontend import load_model
from compiler.pipeline import resolve_workload
from compiler.sub_batch import compile_step
from hwsim import report
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, load_target, si
from hwsim.cli.functional_check import functional_check
from hwsim.cli.run_model import simulate_hwx, simulate_model, step_tokens
from hwsim.cli.workload_args import add_workload_args, workload_from_args
from hwsim.errors import HwsimError
from hwsim.roofline import program_roofline
from isa import write_atomic


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
    target = load_target(args.target, args.overrides)
    if args.model.endswith(".hwx"):
        if args.check:
            raise HwsimError("--check needs the model (weights come from the reference), not "
                             "a .hwx")
        result = simulate_hwx(args.model, target)
    else:
        result = simulate_model(args.model, workload_from_args(args), target)
        if args.check:
            result["check"] = functional_check(args.model, workload_from_args(args), target)
    if args.trace:
        if "_detail" not in result:
            raise HwsimError("--trace is not available for --phase generate")
        write_atomic(args.trace, report.chrome_trace(result).encode("utf-8"))
    if args.csv:
        if "_detail" not in result:
            raise HwsimError("--csv is not available for --phase generate")
        write_atomic(args.csv, report.per_op_csv(result).encode("utf-8"))
    emit(report.to_json(result) if args.json else report.table(result) + _check_line(result))
    return 1 if "check" in result and not result["check"]["bit_exact"] else 0


def _check_line(result: dict) -> str:
    if "check" not in result:
        return ""
    c = result["check"]
    bad = sum(v["mismatches"] for v in c["compared"].values())
    total = sum(v["elements"] for v in c["compared"].values())
    verdict = "bit-exact" if c["bit_exact"] else f"{bad} of {total} elements differ"
    return (f"\nfunctional check vs the integer reference: {verdict} "
            f"({', '.join(sorted(c['compared']))}; {total} elements)\n")


def roofline_report(model_name, workload, target) -> dict:
    """The roofline of the run `simulate` makes: hwsim.roofline.program_roofline on the same
    compiled program, so both commands print the same bound. generate and mllm-NPU's
    block-scheduled prefill compose several programs: their bound is the simulate flow's own
    roofline_seconds, with no per-op rows."""
    model = load_model(model_name) if isinstance(model_name, str) else model_name
    workload = resolve_workload(workload, target)
    if workload.phase == "generate" or (workload.phase == "prefill"
                                        and target.family == "mobile_npu"):
        run = simulate_model(model, workload, target)
        result, tokens = {"ops": [], "roofline_s": run["roofline_seconds"],
                          "bound": run["bound"]}, run["tokens"]
    else:
        result = program_roofline(compile_step(model, workload, target).program, target)
        tokens = step_tokens(workload)
    return {"model": model.name, "target": target.name, "phase": workload.phase,
            "batch": workload.batch, "quant": workload.quant, **result,
            "tokens_per_s": tokens / result["roofline_s"] if result["roofline_s"] else 0.0}


def run_roofline(args) -> int:
    target = load_target(args.target, args.overrides)
    result = roofline_report(args.model, workload_from_args(args), target)
    if args.plot:
        from hwsim.plot import roofline_png
        write_atomic(args.plot, roofline_png(result, target))
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
