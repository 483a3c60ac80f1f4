"""Per-unit service-time closed forms: one formula per unit kind, used by the timing engine,
checked by the roofline invariant, and the contract the RTL models must meet cycle for cycle.

All formulas take numpy arrays (one element per instruction) and return cycles of the unit's
clock (GPU: seconds). docs/fidelity.md states each in words.
"""
from __future__ import annotations

import numpy as np

from isa import Opcode

# Passes over the data a vector instruction makes (structural: each pass streams every element
# through the lanes once): softmax = max, exp + sum, scale; layer norm = mean, variance,
# normalise; RMS norm = sum of squares, scale; RoPE = rotate pairs, combine; SiLU / GELU =
# nonlinearity, multiply.
VECTOR_PASSES = {Opcode.VADD: 1, Opcode.VMUL: 1, Opcode.VMAX: 1, Opcode.VSUM: 1,
                 Opcode.VEXP: 1, Opcode.SOFTMAX: 3, Opcode.LAYERNORM: 3, Opcode.RMSNORM: 2,
                 Opcode.ROPE: 2, Opcode.GELU: 2, Opcode.SILU: 2, Opcode.RELU: 1,
                 Opcode.REQUANT: 1, Opcode.VCOPY: 1}


def ceil_div(a, b):
    return -(-np.asarray(a) // np.asarray(b))


def systolic_cycles(m, n, k, groups, rows: int, cols: int, arrays: int,
                    preload_overlap: bool = False):
    """Weight-stationary rows x cols arrays (SCALE-Sim's WS fold): each fold preloads a
    k-block of weights (rows cycles), then streams m activation rows skewed through the array:
    2*rows + cols + m - 2 cycles per fold; folds = ceil(k/rows) * ceil(n/cols) * groups,
    spread over `arrays` arrays. With `preload_overlap` (double-buffered weights, as ONNXim's
    WS core pipelines GEMM_PRELOAD behind the previous stream) an array's F folds cost the
    first preload, F streams of max(m, rows) cycles (a preload still takes rows) and one
    fill / drain: rows + m + (F - 1) * max(m, rows) + rows + cols - 2; one fold is unchanged."""
    folds = ceil_div(k, rows) * ceil_div(n, cols) * groups
    per_array = ceil_div(folds, arrays)
    if preload_overlap:
        m = np.asarray(m)
        return np.where(per_array > 0, 2 * rows + cols + m - 2 +
                        (per_array - 1) * np.maximum(m, rows), 0)
    return per_array * (2 * rows + cols + m - 2)


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
      group per segment of every bank."""
    n, k, groups = (np.asarray(v) for v in (n, k, groups))
    load = GWRITE_COLUMNS * multipliers
    per_load = np.maximum(load // np.maximum(k, 1), 1)
    segments = ceil_div(k, load)
    gwrites = np.where(k <= load, ceil_div(groups, per_load), groups * segments)
    load_rows = ceil_div(load * element_bytes, row_bytes)
    outputs = ceil_div(n, banks)
    return {"gwrites": gwrites, "rows": outputs * gwrites * load_rows,
            "readouts": outputs * groups * segments}


def pim_channel_cycles(m, n, k, groups, timing, banks: int, banks_per_channel: int,
                       ranks: int, multipliers: int, row_bytes: int, element_bytes: int):
    """Channel-level PIM time on top of pim_cycles (the per-bank part the RTL checks), per the
    artifact's command sequence (pim_commands) and NewtonSim's timing (extern/NewtonSim/src/
    timing.cc, channel_state.cc):
    - GWRITEs beyond pim_cycles' one per segment: (gwrites - segments) x (tCCD_S + tCCD_L) x 32;
    - rows beyond pim_cycles' dense packing: (rows - dense rows) x (tRCD + tRP);
    - grouped activation: a row opens in every bank by G_ACTs of one bank group (4 banks) each;
      G_ACTs of one rank are tFAW apart (timing.cc same_rank[G_ACT] = {G_ACT: tFAW}), ranks in
      parallel: (banks_per_channel / (4 x ranks) - 1) x tFAW per row, on every row;
    - result readout: each COMPS_READRES costs num_comps + 1 command slots (the adder tree's
      fill, channel_state.cc UpdateChannelTiming): one tCCD_L per readout.
    m query vectors run back to back."""
    c = pim_commands(n, k, groups, banks, multipliers, row_bytes, element_bytes)
    load = GWRITE_COLUMNS * multipliers
    k = np.asarray(k)
    full, rest = k // load, k % load
    dense = full * pim_dense_rows(n, load, groups, banks, row_bytes, element_bytes) + np.where(
        rest > 0, pim_dense_rows(n, rest, groups, banks, row_bytes, element_bytes), 0)
    gwrite = (timing.tccd_s_cycles + timing.tccd_l_cycles) * GWRITE_COLUMNS
    gacts_per_rank = max(banks_per_channel // (GACT_BANKS * ranks), 1)
    activation = (gacts_per_rank - 1) * timing.tfaw_cycles
    per_query = ((c["gwrites"] - ceil_div(k, load)) * gwrite
                 + np.maximum(c["rows"] - dense, 0) * (timing.trcd_cycles + timing.trp_cycles)
                 + c["rows"] * activation + c["readouts"] * timing.tccd_l_cycles)
    return np.asarray(m) * per_query
