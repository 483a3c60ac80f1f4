"""`hwsim demo`: the main job on the built-in default: LLaMA2-7B decode on flightllm-u280,
compiled and simulated, on one screen: tokens/s, J/token, where the time and energy go, and the
gap to the roofline."""
from __future__ import annotations

import time

from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim import report
from hwsim.cli.common import emit, format_table, load_target
from hwsim.simulate import simulate_program

DEFAULT_MODEL, DEFAULT_TARGET = "llama2-7b", "flightllm-u280"
DEFAULT_WORKLOAD = Workload(phase="decode", batch=1, context=512)


def register(commands) -> None:
    parser = commands.add_parser("demo", help="the main job on the built-in default")
    parser.set_defaults(run=run)


def run(args) -> int:
    start = time.perf_counter()
    target = load_target(DEFAULT_TARGET, ())
    compiled = compile_model(load_model(DEFAULT_MODEL), DEFAULT_WORKLOAD, target)
    result = simulate_program(compiled.program, target, DEFAULT_WORKLOAD.batch)
    result.update(model=DEFAULT_MODEL, target=DEFAULT_TARGET, phase="decode",
                  batch=DEFAULT_WORKLOAD.batch)
    w = compiled.graph.workload
    emit(f"hwsim demo: {DEFAULT_MODEL} decode (context {w.context}, {w.quant}) on "
         f"{DEFAULT_TARGET}\n")
    emit(f"compiled {len(compiled.program):,} instructions in {compiled.seconds:.2f} s\n\n")
    emit(report.table(result))
    emit("\nwhere the time goes (ops grouped by kind, busy time on their units):\n")
    emit(format_table(["op kind", "ops", "busy ms", "share"], _by_kind(result, compiled)))
    emit(f"\nwall time {time.perf_counter() - start:.2f} s. Next: hwsim simulate MODEL -t "
         "TARGET --json; hwsim targets; hwsim models\n")
    return 0


def _by_kind(result: dict, compiled) -> list[list[str]]:
    d = result["_detail"]
    a, busy = d["arrays"], d["end"] - d["start"]
    kinds = {op["name"]: op["kind"] for op in compiled.program.metadata["ops"]}
    totals: dict[str, list] = {}
    for k, name in enumerate(a.op_names):
        sel = a.op_index == k
        row = totals.setdefault(kinds[name], [0, 0.0])
        row[0] += 1
        row[1] += float(busy[sel].sum())
    whole = sum(v[1] for v in totals.values()) or 1.0
    order = sorted(totals.items(), key=lambda kv: -kv[1][1])
    return [[kind, n, f"{s * 1e3:.3f}", f"{100 * s / whole:.1f} %"] for kind, (n, s) in order]

