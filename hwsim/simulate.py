"""Simulate an isa.Program on a target: timing, traffic, energy, roofline -> one result dict.

The JSON fields are DESIGN.md's contract (extend, never rename): cycles, seconds, tokens_per_s,
energy_j, joules_per_token, tokens_per_joule, energy_breakdown_j, bytes, utilization,
roofline_seconds, bound, instructions (+ the workload fields the caller adds).
"""
from __future__ import annotations

import os

import numpy as np

import isa
from hwsim.energy import buffer_bytes, dram_bytes, energy_breakdown
from hwsim.errors import HwsimError
from hwsim.memory import DramModel
from hwsim.program_arrays import GatheredColumns, base_of, flatten, gathered, per_base_row
from hwsim.program_meta import check_metadata
from hwsim.roofline import program_bound
from hwsim.service import any_of, service_seconds, unit_index, unit_of_rows
from hwsim.timing import engine
from hwsim.timing.cross_channel import cross_channel_rows, cross_channel_service_s
from hwsim.timing.gpu_stack import apply_stack
from hwsim.timing.gpu_waves import add_wave_time
from hwsim.timing.host_issue import kernel_issue_s
from hwsim.timing.layer_plan import row_layers
from hwsim.timing.pim_blocking import memory_sides
from hwsim.timing.pim_channels import channel_resources, channel_service_seconds, row_channels
from hwsim.utilization import busy_fractions, in_flight_seconds
from isa import Queue


def _objects(values: list) -> np.ndarray:
    """`values` as a one-dimensional object array (None entries kept as they are)."""
    out = np.empty(len(values), object)
    out[:] = values
    return out


def reference_clock_hz(target) -> float:
    """Cycles are reported in the clock of the first matrix unit (else the first unit)."""
    names = target.units_for_queue("MM") or list(target.units)
    return target.clocks[target.units[names[0]].clock].freq_hz


REUSE_OFF_ENV = "HWSIM_NO_REUSE"  # set (to anything but "" or "0"): time every layer


def reuse_enabled(reuse: bool | None = None) -> bool:
    """Layer timing reuse on? `reuse` when given, else on unless HWSIM_NO_REUSE is set."""
    if reuse is not None:
        return bool(reuse)
    return os.environ.get(REUSE_OFF_ENV, "") in ("", "0")


def simulate_program(program: isa.Program, target, tokens: int,
                     reuse: bool | None = None) -> dict:
    """Time, energy and bounds of one run of `program`; `tokens` = tokens it produces.

    Whatever its source, the program is verified against the target first (isa.verify:
    tokens, deadlock, operand bounds, units) and its metadata checked (program_meta).
    `reuse`: time identical decoder layers once (hwsim.timing.layer_reuse; None: on unless
    the environment sets HWSIM_NO_REUSE); the result's `reuse` says where it applied. With
    reuse on, a compact program is timed on a window of its unit copies where that is exact
    (hwsim.simulate_window); its `_detail` is then the whole program's, worked out when read."""
    if program.target_fingerprint not in (isa.NO_FINGERPRINT, target.fingerprint()):
        raise HwsimError(f"program was compiled for a different description of "
                         f"{program.target_name}; recompile it for {target.name}")
    if tokens < 1:
        raise HwsimError(f"a run must produce at least one token, not {tokens!r}")
    try:
        isa.verify(program, target.isa_resources())
    except isa.IsaError as err:
        raise HwsimError(f"program fails verification on {target.name}: {err}") from None
    check_metadata(program)
    if reuse_enabled(reuse) and not isinstance(program, isa.Program):
        from hwsim.simulate_window import simulate_window
        out = simulate_window(program, target, tokens)
        if out is not None:
            return out
    return simulate_arrays(program, target, tokens, reuse)


def engine_inputs(program, a, target, metadata: dict) -> dict:
    """Every per-row input of the engine for the rows `a` of `program` (`metadata`: the one
    `a`'s op_index points into)."""
    # per-row costs from a row's own columns: computed once per row of the short program
    # (a compact program's base) and gathered (hwsim.program_arrays.per_base_row)
    base_units = unit_of_rows(base_of(a), target)
    names, base_resource = unit_index(base_units)
    # per-row columns gathered from the base in the engine's dtypes (engine._engine_rows: no
    # full-length int64 copies besides)
    resource = gathered(a, engine.narrow(base_resource, np.int16))

    def units():  # per row: its unit's name (None: LD / ST / SYS); built where read
        return gathered(a, _objects(base_units))
    service = per_base_row(a, service_seconds, target, base_units)
    is_mem = any_of(a.queue, [int(Queue.LD), int(Queue.ST)])
    cross = cross_channel_rows(program, a, target)  # closed form, not the bank model
    if cross.any():
        service = np.maximum(service, cross_channel_service_s(a, cross, target))
    memory_rows = {"is_mem": is_mem & ~cross, "is_write": a.queue == int(Queue.ST),
                   "addr": a.fields["dram_addr"], "rows": _column_as(a, "rows", np.int32),
                   "row_bytes": _column_as(a, "row_bytes", np.int32),
                   "stride": a.fields["dram_stride_bytes"]}
    dram = DramModel(target.memories[target.main_memory])
    channel = row_channels(program, a, units(), target)  # channel-local PIM GEMVs
    if channel is not None:
        service = channel_service_seconds(service, a, channel, units(), target)
    not_before = kernel_issue_s(a.op_index, None, target, a.op_names,
                                resource=(names, resource))
    kernel, gap_s = None, 0.0
    stack = apply_stack(a, service, target)
    if stack is not None:
        service, kernel, stack_issue, gap_s = stack
        not_before = stack_issue if not_before is None else np.maximum(not_before, stack_issue)
    service = add_wave_time(metadata, a, service, target, names, resource, kernel)
    return {"base_units": base_units, "names": names, "resource": resource, "units": units,
            "service": service, "is_mem": is_mem, "memory_rows": memory_rows, "dram": dram,
            "channel": channel, "not_before": not_before, "kernel": kernel, "gap_s": gap_s}


def _column_as(a, name: str, dtype) -> np.ndarray:
    """Column `name` of the rows `a` in the engine's `dtype`: a compact program's gathered
    from its base's narrowed column where not built already (no full-length int64 copy)."""
    fields = a.fields
    if a.base is None or not isinstance(fields, GatheredColumns) or fields.built(name):
        return engine.narrow(fields[name], dtype)
    return engine.narrow(a.base.fields[name], dtype)[a.src]


def run_engine(a, x: dict, target, layers, band=None) -> tuple:
    """engine.run_layers on the inputs `x` (engine_inputs) -> (start, end, reuse report)."""
    channel = x["channel"]
    local = channel is not None
    return engine.run_layers(
        a.queue_start, a.wait, a.release, x["service"], x["memory_rows"], x["dram"],
        channel_resources(x["resource"], channel) if local else x["resource"],
        memory_sides(a.queue, x["units"](), target), x["not_before"],
        overlap=channel >= 0 if local else None, kernel=x["kernel"],
        kernel_gap_s=x["gap_s"], layers=layers, band=band)


def simulate_arrays(program, target, tokens: int, reuse: bool | None = None) -> dict:
    """simulate_program on every row of the program (after its checks)."""
    a = flatten(program)
    x = engine_inputs(program, a, target, program.metadata)
    names, resource, channel, base_units = x["names"], x["resource"], x["channel"], \
        x["base_units"]
    dram, is_mem = x["dram"], x["is_mem"]
    layers = row_layers(a.op_index, a.op_names) if reuse_enabled(reuse) else \
        f"switched off ({REUSE_OFF_ENV} or reuse=False)"
    start, end, reuse_report = run_engine(a, x, target, layers)
    seconds = float(end.max()) if len(end) else 0.0
    energy = energy_breakdown(a, target, base_units, seconds, dram.stats.activations, channel)
    bound = program_bound(a, target, base_units)
    utilization = busy_fractions(names, resource, channel, start, end, seconds, target)
    # LD and ST overlap in time: the memory is busy while any transfer is in flight
    utilization["memory"] = in_flight_seconds(start[is_mem], end[is_mem]) / seconds \
        if seconds else 0.0
    counts = {q.name: int(a.queue_start[int(q) + 1] - a.queue_start[int(q)]) for q in Queue}
    return result(a, target, tokens, seconds, energy, utilization, dram, bound, reuse_report,
                  counts, {"start": start, "end": end, "arrays": a, "units": x["units"](),
                           "roofline": bound})


def result(a, target, tokens: int, seconds: float, energy: dict, utilization: dict, dram,
           bound: dict, reuse_report: dict, counts: dict, detail) -> dict:
    """The result dict (DESIGN.md's fields) from the run's figures; bytes from `a` (a compact
    program's: its base rows times their repeats, hwsim.energy)."""
    total_j = sum(energy.values())
    reads, writes = buffer_bytes(a, len(target.buffers))
    read_b, write_b = dram_bytes(a)
    return {
        "cycles": int(round(seconds * reference_clock_hz(target))),
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds if seconds else 0.0,
        "energy_j": total_j,
        "joules_per_token": total_j / tokens,
        "tokens_per_joule": tokens / total_j if total_j else 0.0,
        "energy_breakdown_j": energy,
        "bytes": {"dram_read": read_b, "dram_write": write_b,
                  "sram_read": float(reads.sum()), "sram_write": float(writes.sum()),
                  **{f"{name}_read": float(r) for name, r in zip(target.buffers, reads)},
                  **{f"{name}_write": float(w) for name, w in zip(target.buffers, writes)}},
        "utilization": utilization,
        "dram": dram.stats.to_json(),
        "roofline_seconds": bound["roofline_s"],
        "bound": bound["bound"],
        "reuse": reuse_report,
        "instructions": counts,
        "_detail": detail,
    }
