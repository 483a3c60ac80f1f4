"""`hwsim simulate MODEL|prog.hwx -t TARGET [workload] [--json] [--trace F] [--csv F]` and
`hwsim roofline MODEL -t TARGET [workload] [--json] [--plot F]`."""
from __future__ import annotations

from dataclasses import replace

from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.passes import partition, quantize
from compiler.pipeline import resolve_workload
from hwsim import report
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, load_target, si
from hwsim.cli.functional_check import functional_check
from hwsim.cli.run_model import simulate_hwx, simulate_model
from hwsim.cli.workload_args import add_workload_args, workload_from_args
from hwsim.errors import HwsimError
from hwsim.roofline import op_bounds
from hwsim.unit_models import VECTOR_PASSES
from isa import Opcode, write_atomic


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


def roofline_report(model_name: str, workload, target) -> dict:
    """Tier 1: per op, max(FLOPs / peak of the unit it is placed on, bytes / bandwidth).

    Decoder layers are identical but for their index (MoE models: after the leading dense
    layers), so only the layers that differ are built and the last one counts `repeat` times.
    """
    model = load_model(model_name)
    layers = workload.layers or model.num_layers
    distinct = min(layers, (model.moe.first_dense_layers if model.moe else 0) + 1)
    graph = placed_graph(model, replace(workload, layers=distinct), target)
    bw = target.memories[target.main_memory].bandwidth_bytes_per_s
    ops = []
    for op in graph.ops():
        unit = _unit_name(op, target)
        dtype = op.attr("compute_dtype") or op.inputs[0].dtype if op.inputs else "fp16"
        peak = 2 * (target.peak_macs_per_s(unit, dtype) or max(
            target.peak_macs_per_s(unit, d) for d in ("int8", "fp16", "fp32", "bf16"))) \
            if unit else 0.0
        nbytes = op.weight_bytes_read + (op.kv.nbytes if op.kv is not None else 0)
        if op.kind.value == "kv_write":
            nbytes += op.output.nbytes
        repeat = layers - distinct + 1 if op.layer == distinct - 1 else 1
        ops.append({"name": op.name, "kind": op.kind.value, "unit": unit, "repeat": repeat,
                    "flops": op.flops * repeat, "bytes": nbytes * repeat,
                    "peak_flops_per_s": peak,
                    "epilogue_s": _epilogue_s(op, unit, target) * repeat,
                    **_vector_s(op, unit, target, repeat)})
    result = op_bounds(ops, bw)
    tokens = workload.batch * (workload.seq if workload.phase == "prefill" else 1)
    return {"model": graph.model.name, "target": target.name, "phase": graph.workload.phase,
            "batch": workload.batch, "quant": graph.workload.quant, **result,
            "tokens_per_s": tokens / result["roofline_s"] if result["roofline_s"] else 0.0}


MATRIX_KINDS = ("matmul", "attn_score", "attn_context")


def _lane_rate(v, dtype: str, target) -> float:
    table = v.ops_per_lane_per_cycle
    return v.count * v.lanes * table.get(dtype, min(table.values())) * \
        target.clocks[v.clock].freq_hz


def _vector_s(op, unit, target, repeat: int) -> dict:
    """{"compute_s": ...} for an op on a vector unit: output elements x the opcode's passes at
    the lanes' rate, the work the cycle tier charges (hwsim.unit_models.vector_cycles)."""
    opcode = op.attr("opcode")
    if unit is None or target.units[unit].kind != "vector" or not opcode or \
            not hasattr(Opcode, opcode) or Opcode[opcode] not in VECTOR_PASSES:
        return {}
    dtype = op.inputs[0].dtype if op.inputs else "fp16"
    passes = VECTOR_PASSES[Opcode[opcode]]
    return {"compute_s": op.output.elements * passes * repeat /
            _lane_rate(target.units[unit], dtype, target)}


def _epilogue_s(op, unit, target) -> float:
    """Seconds of a matrix op's output conversion (REQUANT / VCOPY of every output element from
    the 32-bit accumulator, compiler/codegen/lower_matrix.py) on the target's first VEC unit,
    when that is another unit than the op's (GPUs: the same SMs, left to the op's peak)."""
    vec = target.units_for_queue("VEC")
    if op.kind.value not in MATRIX_KINDS or not vec or vec[0] == unit:
        return 0.0
    v = target.units[vec[0]]
    if getattr(v, "ops_per_lane_per_cycle", None) is None:
        return 0.0
    acc = "int32" if str(op.attr("compute_dtype") or "").startswith("int") else "fp32"
    return op.output.elements / _lane_rate(v, acc, target)


def placed_graph(model, workload, target):
    """The graph with dtypes and unit placement: all the roofline needs (no tiling, no code)."""
    graph = build_graph(model, resolve_workload(workload, target))
    return partition.run(quantize.run(graph, target), target)


def _unit_name(op, target):
    queue = op.attr("queue")
    if queue in (None, "LD", "ST"):
        return None
    return target.units_for_queue(queue)[op.attr("unit")]


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
