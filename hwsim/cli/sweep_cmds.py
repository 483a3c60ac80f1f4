"""`hwsim sweep SPEC.yaml -o results.csv [--workers N] [--dask ADDRESS|local:N] [--resume]` and
`hwsim pareto results.csv --x COL --y COL [--minimize COL] [--maximize COL] [--plot F] [--json]`.
"""
from __future__ import annotations

from hwsim import api
from hwsim.cli.common import dumps_json, emit, format_table


def register(commands) -> None:
    sweep = commands.add_parser("sweep", help="run a sweep spec of models x targets x "
                                              "workloads x target-field axes")
    sweep.add_argument("spec", help="the sweep spec (YAML; see docs/sweeps.md)")
    sweep.add_argument("-o", "--output", required=True,
                       help="results file: .csv, or .parquet (needs pyarrow)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: the CPUs this process may use)")
    sweep.add_argument("--dask", metavar="ADDRESS|local:N",
                       help="run on an existing dask.distributed scheduler, or local:N to "
                            "start a LocalCluster of N worker processes")
    sweep.add_argument("--resume", action="store_true",
                       help="skip the points already in the output (or its .partial)")
    sweep.set_defaults(run=run_sweep_cmd)

    front = commands.add_parser("pareto", help="mark the Pareto front of sweep results "
                                               "(x minimised, y maximised by default)")
    front.add_argument("results", help="a sweep output (.csv or .parquet)")
    front.add_argument("--x", required=True, help="column on the x axis (minimised)")
    front.add_argument("--y", required=True, help="column on the y axis (maximised)")
    front.add_argument("--minimize", action="append", default=[], metavar="COL",
                       help="minimise this column (x or y) instead")
    front.add_argument("--maximize", action="append", default=[], metavar="COL",
                       help="maximise this column (x or y) instead")
    front.add_argument("--plot", help="write the plot of all points and the front here (PNG)")
    front.add_argument("--json", action="store_true", help="print the front as JSON")
    front.set_defaults(run=run_pareto_cmd)


def run_sweep_cmd(args) -> int:
    s = api.sweep(args.spec, args.output, workers=args.workers, dask=args.dask,
                  resume=args.resume)
    notes = [f"{s.skipped:,} already done"] if s.skipped else []
    notes += [f"{s.dropped} torn line(s) dropped"] if s.dropped else []
    emit(f"{s.points:,} points: ran {s.ran:,} ({s.errors:,} errors)"
         f"{', ' + ', '.join(notes) if notes else ''}; {s.rows:,} rows in {args.output} "
         f"({s.seconds:.1f} s)\n")
    return 0


def run_pareto_cmd(args) -> int:
    from isa import write_atomic
    result = api.pareto(args.results, args.x, args.y, minimize=args.minimize,
                        maximize=args.maximize)
    if args.plot:
        write_atomic(args.plot, api.pareto_png(result))
    x, y = result["x"], result["y"]
    if args.json:
        emit(dumps_json({k: v for k, v in result.items() if k not in ("xs", "ys")}))
        return 0
    n = result["skipped"]
    skipped = f"; {n} row{'s' if n != 1 else ''} skipped" if n else ""
    emit(f"Pareto front of {args.results}: {len(result['front'])} of {result['points']} points "
         f"({x}: {result['goals'][x]}imised, {y}: {result['goals'][y]}imised{skipped})\n")
    shown = result["varying"][:6]
    emit(format_table(["point", x, y, *shown],
                      [[r.get("point", ""), f"{r[x]:.6g}", f"{r[y]:.6g}",
                        *(_cell(r.get(c)) for c in shown)] for r in result["front"]]))
    return 0


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
