"""`hwsim validate`: every row of the validation table (hwsim/validation/*.yaml) run through the
normal compile + simulate path, held against its published measurement.

Per row: the simulated value of the row's metric in SI units, ratio = simulated / measured,
error_fraction = ratio - 1 (for rates > 0 means the simulator is optimistic, for times < 0 does),
and whether |error_fraction| is within the row's tolerance. A row the simulator refuses (a model
that "does not fit", a scheme not implemented yet) is reported with its one-line reason, never
dropped. The summary (median |error| and worst row, overall and per target) counts only
`validation` rows that ran; `calibration` rows set a preset field and are shown but not counted.
"""
from __future__ import annotations

import statistics

from compiler.errors import CompilerError
from compiler.ir.workload import Workload
from compiler.kernels import kernel_graph, parse_shape
from compiler.pipeline import compile_graph
from hwsim.api.flows.kernel import kernel_own_seconds
from hwsim.api.flows.mobile_kernel import runs_as_npu_graph, simulate_npu_graph_gemm
from hwsim.api.flows.run_model import simulate_model
from hwsim.errors import HwsimError
from hwsim.simulate import simulate_program
from hwsim.validation import UNITS, Row, load_rows
from isa import IsaError
from targets import TargetError, load_target

REFUSALS = (HwsimError, CompilerError, TargetError, IsaError)


def select_rows(only: str | None, rows: list[Row] | None = None) -> list[Row]:
    """The table's rows, or those named in `only` (comma-separated ids, in table order)."""
    rows = load_rows() if rows is None else rows
    if not only:
        return rows
    wanted = [x.strip() for x in only.split(",") if x.strip()]
    known = {r.id for r in rows}
    unknown = [x for x in wanted if x not in known]
    if unknown:
        raise HwsimError(f"unknown validation row id(s) {', '.join(unknown)} (see hwsim "
                         "validate --json for the ids)")
    return [r for r in rows if r.id in set(wanted)]


def validate(only: str | None = None, rows: list[Row] | None = None,
             simulate=None) -> dict:
    """{"rows": [one record per row, by id], "summary": {...}}. `simulate(row) -> dict` (the
    simulator's record) is replaceable for tests; by default simulate_row."""
    simulate = simulate or simulate_row
    records = [evaluate(r, simulate) for r in select_rows(only, rows)]
    return {"rows": records, "summary": summarize(records)}


def evaluate(row: Row, simulate) -> dict:
    record = {"id": row.id, "use": row.use, "target": row.target, "metric": row.metric,
              "measured": row.value, "unit": row.unit, "measured_si": row.measured_si,
              "tolerance_fraction": row.tolerance_fraction, "source": row.source,
              "stack_kind": row.setup.stack_kind}
    try:
        simulated_si = metric_value(row, simulate(row))
    except REFUSALS as err:
        return {**record, "status": "refused", "reason": " ".join(str(err).split()),
                "simulated_si": None, "simulated": None, "ratio": None, "error_fraction": None,
                "within_tolerance": False}
    ratio = simulated_si / row.measured_si
    within = abs(ratio - 1.0) <= row.tolerance_fraction
    return {**record, "status": "within" if within else "outside", "reason": "",
            "simulated_si": simulated_si, "simulated": simulated_si / UNITS[row.unit][1],
            "ratio": ratio, "error_fraction": ratio - 1.0, "within_tolerance": within}


def metric_value(row: Row, result: dict) -> float:
    """The row's metric, in SI units, from a simulation record."""
    if row.metric == "tokens_per_s":
        return float(result["tokens_per_s"])
    if row.metric == "decode_tokens_per_s":
        if "tpot_s" in result:
            return result["batch"] / float(result["tpot_s"])
        return float(result["tokens_per_s"])
    if row.metric == "seconds":
        return float(result["seconds"])
    return float(result["energy_j"]) / float(result["seconds"])  # power_w


_CACHE: dict[tuple, dict] = {}


def simulate_row(row: Row) -> dict:
    """The simulation a row asks for; rows with the same (target, overrides, model, workload
    or kernel) share one run. A kernel row's `seconds` is the kernel's own time
    (hwsim.api.flows.kernel.kernel_own_seconds: the input gathers are not timed)."""
    key = (row.target, row.overrides, row.model, tuple(sorted(row.workload.items())),
           tuple(sorted((row.kernel or {}).items())))
    if key not in _CACHE:
        target = load_target(row.target, list(row.overrides))
        if row.kernel is not None:
            kind = row.kernel["kind"]
            shape = parse_shape(kind, str(row.kernel.get("shape", "")))
            dtype = row.kernel.get("dtype", "int8")
            if runs_as_npu_graph(kind, dtype, target):   # llm.npu's QNN micro-benchmark
                _CACHE[key] = simulate_npu_graph_gemm(shape, target)
            else:
                program = compile_graph(kernel_graph(kind, shape, dtype), target).program
                result = simulate_program(program, target, 1)
                # the measurement timed the kernel alone, its operands already in memory
                _CACHE[key] = {**result, "seconds": kernel_own_seconds(result, program.metadata)}
        else:
            _CACHE[key] = simulate_model(row.model, Workload(**row.workload), target)
    return _CACHE[key]


def summarize(records: list[dict]) -> dict:
    """Median |error| and the worst row over the validation rows that ran: overall and per
    target; counts of rows by use and status."""
    ran = [r for r in records if r["use"] == "validation" and r["status"] != "refused"]
    per_target = {t: _stats([r for r in ran if r["target"] == t])
                  for t in sorted({r["target"] for r in ran})}
    counts = {f"{use}_{status}": sum(1 for r in records
                                     if r["use"] == use and r["status"] == status)
              for use in ("validation", "calibration")
              for status in ("within", "outside", "refused")}
    return {"overall": _stats(ran), "per_target": per_target, "counts": counts}


def _stats(rows: list[dict]) -> dict:
    if not rows:
        return {"rows": 0, "median_abs_error_fraction": None, "worst_id": None,
                "worst_error_fraction": None}
    worst = max(rows, key=lambda r: (abs(r["error_fraction"]), r["id"]))
    return {"rows": len(rows),
            "median_abs_error_fraction": statistics.median(abs(r["error_fraction"])
                                                           for r in rows),
            "worst_id": worst["id"], "worst_error_fraction": worst["error_fraction"]}
