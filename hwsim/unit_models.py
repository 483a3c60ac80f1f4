"""Per-unit service-time closed forms: one formula per unit kind, used by the timing engine,
checked by the roofline invariant, and the contract the RTL models must meet cycle for cycle.

All formulas take numpy arrays (one element per instruction) and return cycles of the unit's
clock (GPU: seconds). docs/fidelity.md states each in words.
"""
from __future__ import annotations

import numpy as np

from isa import Opcode
# the systolic folds' closed forms live beside the unit they describe (targets), so the
# compiler's placement estimate and this timing model use one formula
from targets.systolic_forms import ceil_div, systolic_cycles, systolic_os_cycles  # noqa: F401

# Passes over the data a vector instruction makes (structural: each pass streams every element
# through the lanes once): softmax = max, exp + sum, scale; layer norm = mean, variance,
# normalise; RMS norm = sum of squares, scale; RoPE = rotate pairs, combine; SiLU / GELU =
# nonlinearity, multiply.
VECTOR_PASSES = {Opcode.VADD: 1, Opcode.VMUL: 1, Opcode.VMAX: 1, Opcode.VSUM: 1,
                 Opcode.VEXP: 1, Opcode.SOFTMAX: 3, Opcode.LAYERNORM: 3, Opcode.RMSNORM: 2,
                 Opcode.ROPE: 2, Opcode.GELU: 2, Opcode.SILU: 2, Opcode.RELU: 1,
                 Opcode.REQUANT: 1, Opcode.VCOPY: 1}


def dsp_chain_cycles(m, n, k_effective, groups, chains: int, length: int, pack: int):
    """FlightLLM MPE: `chains` DSP chains of `length` cascaded DSPs, each DSP one k per cycle
    for `pack` rows (INT8 packing). Folds = ceil(k_eff/length) * ceil(n/chains) * groups enter
    the cascade back to back, ceil(m/pack) cycles each; the cascade fills once (`length`
    cycles) plus one overflow-adjust stage when length > 8 (FlightLLM §4.1). N:M sparsity
    shrinks k_eff = k*N/M: the chain's sparse MUX feeds only kept weights."""
    adjust = 1 if length > 8 else 0
    folds = ceil_div(k_effective, length) * ceil_div(n, chains) * groups
    return folds * ceil_div(m, pack) + length + adjust


def vector_cycles(elements, passes, lanes_total: int, rate):
    """`passes` sweeps of `elements` through lanes_total lanes at `rate` ops/lane/cycle, plus one
    cycle of pipeline start per pass."""
    per_cycle = lanes_total * np.asarray(rate, dtype=np.float64)
    return passes * np.ceil(np.asarray(elements) / per_cycle) + passes


GACT_BANKS = 4  # banks one grouped activation (G_ACT) opens: one bank group (NewtonSim configs/HBM2_8Gb_x128_dualpim.ini banks_per_group 4)
GWRITE_COLUMNS = 32  # global-buffer columns one GWRITE fills (Newton / NeuPIMs), `multipliers` each


def pim_cycles(m, n, k, groups, timing, banks: int, multipliers: int, row_bytes: int,
               element_bytes: int):
    """HBM-PIM GEMV (Newton / NeuPIMs). The global buffer holds 32 x `multipliers` elements of
    the query vector, so a query of k elements runs in segments = ceil(k / (32 * multipliers))
    passes: full segments of 32 * multipliers elements, then the remainder. Per segment the
    segment is broadcast (GWRITE: (tCCD_S + tCCD_L) * 32 cycles), then every bank streams its
    share of the segment's n x k_s block (stored segment by segment, each from a fresh DRAM row)
    row by row: a row costs tRCD + tRP to open and close and one PIM_DOTPRODUCT per
    `multipliers` elements at tCCD_L each. m query vectors run back to back."""
    k = np.asarray(k)
    seg_elements = GWRITE_COLUMNS * multipliers
    full, rest = k // seg_elements, k % seg_elements

    def segment(k_s):
        elements_per_bank = ceil_div(n * k_s * groups, banks)
        rows_per_bank = pim_dense_rows(n, k_s, groups, banks, row_bytes, element_bytes)
        row_cycles = timing.trcd_cycles + timing.trp_cycles
        gwrite = (timing.tccd_s_cycles + timing.tccd_l_cycles) * GWRITE_COLUMNS
        dot = ceil_div(elements_per_bank, multipliers) * timing.tccd_l_cycles
        return gwrite + rows_per_bank * row_cycles + dot

    per_query = full * segment(seg_elements) + np.where(rest > 0, segment(rest), 0)
    return m * per_query


def pim_dense_rows(n, k_s, groups, banks: int, row_bytes: int, element_bytes: int):
    """DRAM rows per bank of one segment's n x k_s block (x groups) packed densely: pim_cycles'
    (and pim_bank_mac.v's) layout."""
    return ceil_div(ceil_div(n * k_s * groups, banks) * element_bytes, row_bytes)


def pim_commands(n, k, groups, banks: int, multipliers: int, row_bytes: int,
                 element_bytes: int) -> dict:
    """Per query vector, the PIM commands a channel issues in the artifact's command sequence
    (casys-kaist/NeuPIMs src/operations/NeuPIMSLogitSoftmax.cc, NeuPIMSAttend.cc):
    - gwrites: each group (attention head) has its own query vector. A GWRITE loads
      32 x multipliers elements; groups whose vectors fit pack into one load (K^T q: 4 heads of
      128 per 512-element GWRITE), a longer vector takes ceil(k / load) loads per group (p V:
      one per head per 512 tokens).
    - rows: Newton's PIM_DOTPRODUCT pairs row-buffer column c with global-buffer column c, so
      each output keeps its k-vector at its query's global-buffer position: per bank,
      ceil(n / banks) outputs x gwrites loads, each load's columns in ceil(load bytes / row)
      rows (K^T q: a row holds one token's keys of 4 heads; p V: one dk column's 512 tokens).
    - readouts: one result readout (PIM_RDRESULT, the COMPS_READRES's readout) per output per
      group per segment of every bank.
    Split by segment (`full`: the k // load full loads, `rest`: the last, shorter one):
    rows_*, readouts_* and dots_* (PIM_DOTPRODUCTs per readout: ceil(segment / multipliers))."""
    n, k, groups = (np.asarray(v) for v in (n, k, groups))
    load = GWRITE_COLUMNS * multipliers
    per_load = np.maximum(load // np.maximum(k, 1), 1)
    segments = ceil_div(k, load)
    full, rest = k // load, k % load
    gwrites = np.where(k <= load, ceil_div(groups, per_load), groups * segments)
    outputs = ceil_div(n, banks)
    has_rest = (rest > 0).astype(np.int64)
    rows_full, rows_rest = _rows_holding_data(k, groups, load, per_load, full, rest,
                                              row_bytes, element_bytes)
    rows_full, rows_rest = outputs * rows_full, outputs * rows_rest
    return {"gwrites": gwrites, "rows": rows_full + rows_rest,
            "readouts": outputs * groups * segments,
            "rows_full": rows_full, "rows_rest": rows_rest,
            "readouts_full": outputs * groups * full, "readouts_rest": outputs * groups * has_rest,
            "dots_full": np.full_like(k, load // multipliers), "dots_rest": ceil_div(rest, multipliers)}


def _rows_holding_data(k, groups, load, per_load, full, rest, row_bytes: int,
                       element_bytes: int):
    """Per output: the DRAM rows of the full loads and of the last, shorter one. A load's columns
    sit at their global-buffer positions, so its data fills ceil(data bytes / row) rows from the
    load's first; a row holding no data is never opened. Heads packed into one load (k <= load:
    per_load heads a load, the last load the heads left) fill per_load x k elements; a longer
    vector's full loads fill the whole load and its last one the rest. (With a global buffer of
    one DRAM row, NeuPIMs' 16 fp16 multipliers x 32 columns = 1 KiB, every load is one row:
    the artifact's one row per tile per GWRITE chunk, NeuPIMSLogitSoftmax.cc calculate_loops.)"""
    def rows_of(elements):
        return ceil_div(elements * element_bytes, row_bytes)

    packs, last = groups // per_load, groups % per_load
    packed = packs * rows_of(per_load * k) + np.where(last > 0, rows_of(last * k), 0)
    longer = groups * np.where(rest > 0, rows_of(rest), 0)
    rows_full = np.where(k < load, 0, groups * full * rows_of(load))
    return rows_full, np.where(k < load, packed, longer)


def pim_channel_cycles(m, n, k, groups, timing, banks: int, banks_per_channel: int,
                       ranks: int, multipliers: int, row_bytes: int, element_bytes: int,
                       gemv_command: bool = False, min_dot_cycles: int = 0,
                       single_row_buffer: bool = False):
    """Channel-level PIM time on top of pim_cycles (the per-bank part the RTL checks): the
    artifact's command timeline per query vector (pim_commands; NewtonSim timing.cc,
    channel_state.cc, newton_command_queue.cc / neupims_command_queue.cc, one command per
    cycle: NewtonController::ClockTick) minus pim_cycles. Per row (tile):
    - grouped activation: a row opens in every bank by G_ACTs of one bank group (4 banks) each;
      G_ACTs of one rank are tFAW apart (timing.cc same_rank[G_ACT] = {G_ACT: tFAW}), the other
      ranks' one command slot behind: (banks_per_channel / (4 x ranks) - 1) x tFAW + ranks - 1,
      then tRCD to the first dot product;
    - readouts: each takes max(dots x tCCD_L, min_dot_cycles) and one tCCD_L slot for the
      result. With NeuPIMs' PIM_GEMV(k) (`gemv_command`, COMPS_READRES: dots and readout in one
      command, channel_state.cc UpdateChannelTiming: max(num_comps, 6) + 1 slots) the row may
      close tRTP after its last readout *issues*, so that readout's time is hidden; with
      Newton's PIM_DOTPRODUCT x k + PIM_RDRESULT (timing.cc; the first dot product after a
      readout holds the next readout 6 x tCCD_S back, UpdateTimingForPIM) it closes tRTP after
      the PIM_RDRESULT, the last readout's slot hidden;
    - close: tRTP (timing.cc read_to_precharge), then one precharge per bank and the next
      PIM_HEADER, one command per cycle: banks_per_channel + 1 (instead of pim_cycles' tRP).
    Per GWRITE (96 cycles, (tCCD_S + tCCD_L) x 32): the next row's precharges wait for it to
    complete (newton_command_queue.cc is_gwriting_). It issues one slot after the last readout
    (+ tCCD_L - tRTP against a row close); with a `single_row_buffer` (Newton) its bank must
    first close the PIM row and open the GWRITE row (+ tRTP + tRP + tRCD instead: bankstate.cc
    GetReadyCommandSingle; dual row buffers keep that row open in the memory row buffer).
    m query vectors run back to back."""
    t = timing
    c = pim_commands(n, k, groups, banks, multipliers, row_bytes, element_bytes)
    slot = t.tccd_l_cycles
    gwrite = (t.tccd_s_cycles + t.tccd_l_cycles) * GWRITE_COLUMNS
    gwrite += t.trp_cycles + t.trcd_cycles if single_row_buffer else slot - t.trtp_cycles
    gacts_per_rank = max(banks_per_channel // (GACT_BANKS * ranks), 1)
    row = ((gacts_per_rank - 1) * t.tfaw_cycles + (ranks - 1) + t.trcd_cycles
           + t.trtp_cycles + banks_per_channel + 1)
    readout = 0
    for part in ("full", "rest"):
        dots = np.maximum(c["dots_" + part] * slot, min_dot_cycles)
        reads, rows = c["readouts_" + part], c["rows_" + part]
        readout = readout + (np.maximum(reads - rows, 0) * (dots + slot) if gemv_command
                             else reads * dots + np.maximum(reads - rows, 0) * slot)
    per_query = c["gwrites"] * gwrite + c["rows"] * row + readout
    bank = pim_cycles(1, n, k, groups, t, banks, multipliers, row_bytes, element_bytes)
    return np.asarray(m) * (per_query - bank)
