"""Energy = action counts x the target's per-action table, plus static power x time.

The simulator only counts actions (MACs and vector ops per unit and dtype, bytes per buffer
and memory, DRAM row activations, PIM commands); every coefficient comes from the target YAML
(targets/energy.py), each with its source.
"""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import ProgramArrays, base_of, once_per_arrays, row_counts
from hwsim.service import LABELS, macs, per_value, unit_index, vector_ops
from hwsim.unit_models import GACT_BANKS, pim_commands
from isa import Opcode, Queue

PJ = 1e-12


def _per_dtype(table: dict, dtype: str) -> float:
    """A table entry, or the costliest entry when the dtype is not listed (never cheaper)."""
    return table.get(dtype, max(table.values()))


def energy_breakdown(a: ProgramArrays, target, units: list, seconds: float,
                     dram_activations: float | None = None, pim_channel=None,
                     compute_j: float | None = None) -> dict:
    """`units`: the unit of each row of base_of(a) (hwsim.service.unit_of_rows): a compact
    program's costs are counted on its short program's rows (hwsim.program_arrays).
    `compute_j`: the compute term when the caller sums it itself (a window's rows with the
    band put back, hwsim.simulate_window); None: summed over the rows of `a`."""
    e = target.energy
    compute = _compute_j(a, e, units) if compute_j is None else compute_j
    sram = 0.0
    names = list(target.buffers)
    reads, writes = buffer_bytes(a, len(names))
    for i, name in enumerate(names):
        sram += (reads[i] * e.buffers[name].read_pj_per_byte +
                 writes[i] * e.buffers[name].write_pj_per_byte) * PJ
    main = target.memories[target.main_memory]
    mem_e = e.memories[target.main_memory]
    read_b, write_b = dram_bytes(a)
    if dram_activations is None:  # one activation per row of data moved
        dram_activations = (read_b + write_b) / main.row_bytes
    dram = (read_b * mem_e.read_pj_per_byte + write_b * mem_e.write_pj_per_byte +
            dram_activations * mem_e.activate_pj) * PJ
    return {"compute": compute, "sram": sram, "dram": dram,
            "pim": pim_energy(a, target, pim_channel), "static": e.static.power_w * seconds}


def _compute_j(a: ProgramArrays, e, units: list) -> float:
    """Sum over rows of work x its MAC energy + vector ops x its vector-op energy, by the
    unit and dtype of each row. Added in row order (np.cumsum adds one term after another,
    as a loop over rows would), so the float is the same whatever the array length. Each
    row's two terms are a product of its own columns: worked out per row of the short
    program and gathered, the same numbers (`units`: of those rows)."""
    terms, busy = _compute_terms(base_of(a), e, units)
    rows = np.flatnonzero(busy) if a.base is None else a.src[busy[a.src]]  # in row order
    if not len(rows):
        return 0.0
    return float(np.cumsum(terms[rows].reshape(-1))[-1])


def _compute_terms(a: ProgramArrays, e, units: list):
    """(per row (work x its MAC energy, vector ops x its vector-op energy) J, per row: busy)."""
    work, vops = macs(a), vector_ops(a)
    names, index = unit_index(units)
    busy = (index >= 0) & ((work != 0) | (vops != 0))
    out = np.zeros((len(a), 2))
    if not busy.any():
        return out, busy
    key = index * 256 + a.dtype_in.astype(np.int64)

    def costs(k: int):
        table = e.compute[names[k // 256]]
        dtype = LABELS[k % 256]
        return _per_dtype(table.mac_pj, dtype), _per_dtype(table.vector_op_pj, dtype)
    coef = per_value(key[busy], costs).reshape(-1, 2)
    out[busy, 0] = work[busy] * coef[:, 0] * PJ
    out[busy, 1] = vops[busy] * coef[:, 1] * PJ
    return out, busy


def buffer_bytes(a: ProgramArrays, n_buffers: int):
    """Bytes read from and written to each on-chip buffer (by operand role: out / dst and LD's
    destination write, every other on-chip operand reads). A compact program's operands are
    counted on its short program's rows, each times the rows that repeat it: integer bytes,
    every partial sum exact below 2**53, so the same floats as a sum over every row. Worked
    out once per arrays (energy and the `bytes` record both ask)."""
    return once_per_arrays(a, ("buffer_bytes", n_buffers), lambda a: _buffer_bytes(a, n_buffers))


def _buffer_bytes(a: ProgramArrays, n_buffers: int):
    b, repeats = base_of(a), row_counts(a)
    kept = b.ext_buf < n_buffers
    write = b.ext_write[kept]
    buf, size = b.ext_buf[kept], b.ext_bytes[kept]
    if repeats is not None:
        size = size * repeats[b.ext_row[kept]]
    size = size.astype(np.float64)  # integers: exact sums
    return (np.bincount(buf[~write], weights=size[~write], minlength=n_buffers)[:n_buffers],
            np.bincount(buf[write], weights=size[write], minlength=n_buffers)[:n_buffers])


def dram_bytes(a: ProgramArrays) -> tuple[float, float]:
    """Off-chip bytes read (LD) and written (ST): integer sums (a compact program's on its
    short program's rows, each times the rows that repeat it). Worked out once per arrays."""
    return once_per_arrays(a, "dram_bytes", _dram_bytes)


def _dram_bytes(a: ProgramArrays) -> tuple[float, float]:
    b, repeats = base_of(a), row_counts(a)
    moved = b.fields["rows"] * b.fields["row_bytes"]
    if repeats is not None:
        moved = moved * repeats
    return (float(moved[b.queue == int(Queue.LD)].sum()),
            float(moved[b.queue == int(Queue.ST)].sum()))


def pim_energy(a: ProgramArrays, target, channel=None) -> float:
    """PIM commands of every PIM_GEMV row, counted as its time counts them (hwsim.unit_models
    pim_commands): per query vector, per channel, the GWRITEs (one per global-buffer load, heads
    packed as they fit), a grouped activation (4 banks each) of every row of every bank, one
    all-bank DOTPRODUCT per `multipliers` elements of each bank's share and one result readout
    (a read burst) per output tile, and with a single row buffer one bank activation per
    GWRITE to reopen its row. `channel` (hwsim.timing.pim_channels): per row of `a`, the
    one channel a channel-local GEMV runs on (its commands go to that channel's banks only), -1
    for an all-channel GEMV; None: every GEMV spans all channels."""
    rows = a.opcode == int(Opcode.PIM_GEMV)
    if not rows.any() or target.energy.pim is None:
        return 0.0
    pim_unit = next(u for u in target.units.values() if u.kind == "pim")
    mem = target.memories[pim_unit.memory]
    p = target.energy.pim
    f = {c: a.fields[c][rows] for c in ("m", "n", "k", "count")}
    channels = np.full(int(rows.sum()), mem.channels, np.int64)
    if channel is not None:
        channels[channel[rows] >= 0] = 1
    banks = channels * mem.banks_per_channel
    per_bank = -(-(f["n"] * f["k"] * f["count"]) // banks)
    c = pim_commands(f["n"], f["k"], f["count"], banks, pim_unit.multipliers_per_bank,
                     mem.row_bytes, 2)
    m = f["m"]
    gwrite = m * c["gwrites"] * channels * p.gwrite_pj
    activate = m * c["rows"] * (mem.banks_per_channel / GACT_BANKS) * channels * p.activate_pj
    dot = m * -(-per_bank // pim_unit.multipliers_per_bank) * channels * p.dotproduct_pj
    readout = m * c["readouts"] * channels * p.read_pj
    # one row buffer (Newton, mechanisms.dual_row_buffers off): each GWRITE's bank closes the
    # PIM row and activates the GWRITE row again (hwsim.unit_models.pim_channel_cycles), one
    # bank's ACT, a quarter of the grouped activation
    single = not getattr(getattr(target, "mechanisms", None), "dual_row_buffers", True)
    reopen = m * c["gwrites"] * channels * (p.activate_pj / GACT_BANKS) * single
    return float((gwrite + activate + dot + readout + reopen).sum()) * PJ
