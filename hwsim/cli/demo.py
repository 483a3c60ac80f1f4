"""`hwsim demo`: the main job on the built-in default: LLaMA2-7B decode on flightllm-u280,
compiled and simulated, on one screen: tokens/s, J/token, where the time and energy go, and the
gap to the roofline."""
from __future__ import annotations

import time

from hwsim import api
from hwsim.cli.common import emit, format_table
from hwsim.cli.sim_report import simulate_table


def register(commands) -> None:
    parser = commands.add_parser("demo", help="the main job on the built-in default "
                                              "(LLaMA2-7B decode, context 512, flightllm-u280)")
    parser.set_defaults(run=run)


def run(args) -> int:
    start = time.perf_counter()
    result, facts, kinds = api.demo()
    emit(f"hwsim demo: {result.model} {result.phase} (context {result.context}, {result.quant}, "
         f"KV {result.extra['kv_bits']}-bit) on {result.target}\n")
    emit(f"compiled {facts['instructions']:,} instructions in "
         f"{facts['compile_seconds']:.2f} s\n\n")
    emit(simulate_table(result, api.explain(result, result.target)))
    whole = sum(s for _, _, s in kinds) or 1.0
    emit("\nbusy time by op kind (summed over the units each kind runs on; units overlap, so "
         "these add up to more than the step time):\n")
    emit(format_table(["op kind", "ops", "busy ms", "share"],
                      [[k, n, f"{s * 1e3:.3f}", f"{100 * s / whole:.1f} %"]
                       for k, n, s in kinds]))
    emit(f"\nwall time {time.perf_counter() - start:.2f} s. Next: hwsim simulate MODEL -t "
         "TARGET --json; hwsim targets; hwsim models\n")
    return 0
