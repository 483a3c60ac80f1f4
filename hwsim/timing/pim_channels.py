"""Channel-local PIM GEMVs: a request's attention runs on the banks of the channel that holds
its KV cache (compiler.pim_placement; NeuPIMs / Newton, casys-kaist/NeuPIMs Scheduler.cc).

The program metadata "pim_channels" lists each KV region (base address, bytes per request, the
channel of each request). A PIM GEMV whose operand address falls in a region runs on that
request's channel: its service time is `pim_cycles` + `pim_channel_cycles` over one channel's
banks, and it occupies a per-channel resource, so GEMVs on different channels overlap while the MV queue still issues
them in order (the timing engine's `overlap` rows: a row waits for its queue predecessor to
start, not to end, and its tokens arrive when it ends). This relies on how attention is lowered
(compiler.codegen.lower_matrix): a PIM GEMV's only direct consumer is its own tile's VEC
epilogue (earlier K tiles of the tile are the same request, on the same channel), and later
ops reach every GEMV through those epilogues, which the in-order VEC queue completes in order.
A layer's attention then lasts as long as its busiest channel. PIM GEMVs outside every region
keep the all-bank model.
"""
from __future__ import annotations

import numpy as np

from hwsim.unit_models import pim_channel_cycles, pim_cycles
from isa import Opcode, Queue


def row_channels(program, a, units: list, target) -> np.ndarray | None:
    """Per row of `a` (= hwsim.program_arrays.flatten(program)): the channel a PIM GEMV runs
    on, -1 for every other row; None without a map."""
    placement = program.metadata.get("pim_channels")
    if not placement:
        return None
    channel = np.full(len(a), -1, np.int64)
    pim = (a.opcode == int(Opcode.PIM_GEMV)) & np.array(
        [u is not None and target.units[u].kind == "pim" for u in units], bool)
    addr = np.fromiter((instr.fields.get("wgt_addr", 0) for q in Queue
                        for instr in program.streams[q]), np.int64, len(a))
    for base, per_request, channels in placement["regions"]:
        inside = pim & (addr >= base) & (addr < base + per_request * len(channels))
        request = (addr[inside] - base) // per_request
        channel[inside] = np.asarray(channels, np.int64)[request]
    return channel


def channel_service_seconds(service: np.ndarray, a, channel: np.ndarray, units: list,
                            target) -> np.ndarray:
    """`service` with each channel-local row's PIM time over one channel's banks (never less
    than the row's other bound, its buffer ports)."""
    rows = np.flatnonzero(channel >= 0)
    out = service.copy()
    if rows.size == 0:
        return out
    unit = target.units[units[rows[0]]]
    f = {c: a.fields[c][rows] for c in ("m", "n", "k", "count")}
    banks = target.memories[unit.memory].banks_per_channel
    local = pim_gemv_seconds(f["m"], f["n"], f["k"], f["count"], unit, target, banks)
    out[rows] = np.maximum(out[rows], local)
    return out


def pim_gemv_seconds(m, n, k, groups, unit, target, banks: int):
    """Seconds of PIM GEMVs spread over `banks` banks of the unit's memory (all of them, or one
    channel's): the per-bank part the RTL checks (pim_cycles) plus the channel's command
    timeline (pim_channel_cycles), FP16 operands."""
    mem = target.memories[unit.memory]
    return (pim_cycles(m, n, k, groups, mem.timing, banks, unit.multipliers_per_bank,
                       mem.row_bytes, 2) +
            pim_channel_cycles(m, n, k, groups, mem.timing, banks, mem.banks_per_channel,
                               mem.ranks_per_channel, unit.multipliers_per_bank,
                               mem.row_bytes, 2, *readout_command(unit, target))
            ) * mem.timing.tck_s


def readout_command(unit, target) -> tuple[bool, int, bool]:
    """(gemv_command, min_dot_cycles, single_row_buffer) for pim_channel_cycles: NeuPIMs'
    PIM_GEMV(k) command when `mechanisms.pim_gemv_command` is on (the unit's
    gemv_min_dot_cycles floor), else Newton's PIM_DOTPRODUCTs + PIM_RDRESULT
    (rdresult_min_dot_cycles); a single row buffer when `mechanisms.dual_row_buffers` is off."""
    mech = getattr(target, "mechanisms", None)
    gemv = bool(getattr(mech, "pim_gemv_command", False))
    single = not getattr(mech, "dual_row_buffers", True)
    return gemv, unit.gemv_min_dot_cycles if gemv else unit.rdresult_min_dot_cycles, single


def channel_resources(resource: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Engine resources: channel-local rows on resource (units used) + channel."""
    out = resource.copy()
    local = channel >= 0
    out[local] = int(resource.max(initial=-1)) + 1 + channel[local]
    return out
