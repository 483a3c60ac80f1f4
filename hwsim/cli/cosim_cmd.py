"""`hwsim cosim [--sim icarus|verilator] [--json] [--vectors N] [--seed S]`: run the RTL units
under cocotb and cross-check each against its hwsim unit model (cycles) and the exact integer
reference (numerics), then run whole programs on the RTL ISA core against hwsim (cycles per
instruction and in total, final off-chip image). Prints one table per unit and one for the
programs; exit 0 when every check passes, 1 when any
differs, 2 when the simulator is missing (one line saying how to install it)."""
from __future__ import annotations

import time

from hwsim import api
from hwsim.cli.common import dumps_json, emit, format_table


def register(commands) -> None:
    p = commands.add_parser("cosim", help="RTL co-simulation cross-checks (cocotb)")
    p.add_argument("--sim", default="icarus", choices=("icarus", "verilator"),
                   help="HDL simulator (default icarus)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--vectors", type=int, default=1000,
                   help="random input vectors per unit configuration (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(run=run_cosim)


def run_cosim(args) -> int:
    started = time.perf_counter()
    results, program_results = api.cosim(args.sim, seed=args.seed, vectors=args.vectors)
    passed = all(r.passed for r in results + program_results)
    if args.json:
        emit(dumps_json({"sim": args.sim, "seed": args.seed, "passed": passed,
                         "seconds": round(time.perf_counter() - started, 2),
                         "units": [r.as_dict() for r in results],
                         "programs": [r.as_dict() for r in program_results]}))
    else:
        emit(_tables(results + program_results, args.sim, time.perf_counter() - started,
                     passed))
    return 0 if passed else 1


def _tables(results, sim: str, seconds: float, passed: bool) -> str:
    headers = ["configuration", "vectors", "jobs / instructions", "RTL cycles", "model cycles", "cycle diff",
               "numerics"]
    out = []
    for unit in dict.fromkeys(r.unit for r in results):
        rows = [[r.config, r.vectors, r.jobs, r.rtl_cycles, r.model_cycles,
                 f"{r.rtl_cycles - r.model_cycles:+d}" + ("" if r.cycles_match else
                                                         f" ({len(r.cycle_mismatches)} jobs)"),
                 "bit-exact" if r.numerics_match else f"MISMATCH ({r.mismatched_jobs} jobs)"]
                for r in results if r.unit == unit]
        out.append(f"{unit} ({sim})\n" + format_table(headers, rows))
    verdict = "all cross-checks pass" if passed else "CROSS-CHECK FAILED"
    out.append(f"{verdict}: {len(results)} configurations on {sim} in {seconds:.1f} s\n")
    return "\n".join(out)
