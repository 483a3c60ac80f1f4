"""The RTL units and how each is checked against its hwsim model.

For every unit: a stimulus generator (seeded numpy; random vectors plus corner cases), the beat
schedule the generic testbench drives (rtl_models/tb/stream_tb.py), and a checker that compares
the RTL's outputs with numpy / isa.intmath and its cycles with the closed form in
hwsim.unit_models. The model functions are looked up through their modules at check time, so a
test can patch them and see the check fail.
"""
from __future__ import annotations

import numpy as np

from hwsim import unit_models
from isa import intmath
from rtl_models.cosim import CheckResult, Unit, pack, unpack_signed
from rtl_models.unit_helpers import _int8, _stream
from rtl_models.units_exp import VECTOR_EXP
from rtl_models.units_memory import (PIM_BANK_MAC, REDUCE_OPS, VECTOR_REDUCE,  # noqa: F401
                                     pim_check, pim_describe, pim_reference, pim_stimulus,
                                     pim_timing, reduce_check, reduce_describe,
                                     reduce_reference, reduce_stimulus)


# ---- weight-stationary systolic array ---------------------------------------------------------
def systolic_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """Folds of (W: R x C weights, A: m x R activations); `vectors` activation rows in all.
    Corner folds first: all zero, -128 x -128 everywhere (largest products), max positive,
    max negative x max positive, a single row."""
    R, C = params["R"], params["C"]
    full = lambda v, shape: np.full(shape, v, dtype=np.int64)  # noqa: E731
    folds = [(full(0, (R, C)), full(0, (R, R))),
             (full(-128, (R, C)), full(-128, (R + 2, R))),
             (full(127, (R, C)), full(127, (3, R))),
             (full(127, (R, C)), full(-128, (2, R))),
             (_int8(rng, (R, C)), _int8(rng, (1, R)))]
    rows = sum(a.shape[0] for _, a in folds)
    while rows < vectors:
        m = int(rng.integers(1, 2 * (R + C) + 1))
        folds.append((_int8(rng, (R, C)), _int8(rng, (m, R))))
        rows += m
    jobs = []
    for w, a in folds:
        # the top row shifts down as new rows enter: drive the bottom row (k = R-1) first
        beats = [{"w_valid": 1, "w_row": pack(w[R - 1 - r], 8)} for r in range(R)]
        beats += [{"a_valid": 1, "a_row": pack(row, 8)} for row in a]
        jobs.append({"beats": beats, "outputs": int(a.shape[0])})
    stim = _stream(jobs, {"w_valid": 0, "a_valid": 0, "w_row": 0, "a_row": 0}, ["out_row"])
    stim["folds"] = [{"w": w.tolist(), "a": a.tolist()} for w, a in folds]
    return stim


def systolic_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    R, C = params["R"], params["C"]
    result = CheckResult("systolic", systolic_describe(params))
    for job, (fold, seen) in enumerate(zip(stim["folds"], obs["jobs"])):
        w, a = np.array(fold["w"], dtype=np.int64), np.array(fold["a"], dtype=np.int64)
        m = a.shape[0]
        result.vectors += m
        model = unit_models.systolic_cycles(m, C, R, 1, R, C, 1)
        result.record_cycles(job, seen["cycles"], model)
        got = [unpack_signed(beat[0], 32, C) for beat in seen["outputs"]]
        result.record_numerics(job, got, a @ w)
    return result


def systolic_describe(params: dict) -> str:
    return f"R={params['R']} C={params['C']} int8xint8->int32"


SYSTOLIC = Unit("systolic", "systolic_ws", "systolic_ws.v", "rtl_models.tb.stream_tb",
                systolic_stimulus, systolic_check, systolic_describe)


# ---- FlightLLM DSP chain ----------------------------------------------------------------------
def _prune_nm(w: np.ndarray, n_keep: int, m_group: int, rng) -> tuple[np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """N:M-prune a k x n weight along k (k a multiple of M): returns (dense pruned k x n,
    kept k_eff x n, index-in-group k_eff x n)."""
    k, n = w.shape
    kept = np.zeros((k * n_keep // m_group, n), dtype=np.int64)
    index = np.zeros_like(kept)
    dense = np.zeros_like(w)
    for col in range(n):
        for g in range(k // m_group):
            pick = np.sort(rng.choice(m_group, size=n_keep, replace=False))
            kept[g * n_keep:(g + 1) * n_keep, col] = w[g * m_group + pick, col]
            index[g * n_keep:(g + 1) * n_keep, col] = pick
            dense[g * m_group + pick, col] = w[g * m_group + pick, col]
    return dense, kept, index


def dsp_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """GEMMs (A: m x k, W: k x n, dense or N:M sparse) streamed through the chains: per output-
    column block and k fold, ceil(m/2) beats of two packed rows. `vectors` beats in all.
    Corner GEMMs first: all zero, -128 x -128 everywhere (the packed low field's extreme),
    max positive, max negative x max positive, the same extremes in sparse mode."""
    L, chains, sp_n, sp_m = params["L"], params["CHAINS"], params["SP_N"], params["SP_M"]
    ka = L * sp_m // sp_n
    index_bits = max(1, (sp_m - 1).bit_length())   # the RTL's IW = clog2(SP_M)
    gemms = []

    def add(a, w, sparse):
        k, n = w.shape
        if sparse:
            dense, kept, index = _prune_nm(w, sp_n, sp_m, rng)
        else:
            dense, kept, index = w, w, np.zeros_like(w)
        gemms.append({"a": a, "w": dense, "kept": kept, "index": index, "sparse": sparse})

    k_dense, k_sparse = 2 * L, 2 * ka
    for sparse, k in ((False, k_dense), (True, k_sparse)):
        add(np.zeros((3, k), np.int64), np.zeros((k, chains), np.int64), sparse)
        add(np.full((4, k), -128), np.full((k, chains + 1), -128), sparse)
        add(np.full((2, k), 127), np.full((k, chains), 127), sparse)
        add(np.full((5, k), -128), np.full((k, chains), 127), sparse)
    beats = 0
    while beats < vectors:
        sparse = bool(rng.integers(2))
        m = int(rng.integers(1, 10))
        n = int(rng.integers(1, 2 * chains + 1))
        k = int(rng.integers(1, 3 * L // sp_m + 1)) * sp_m if sparse \
            else int(rng.integers(1, 3 * L + 1))
        add(_int8(rng, (m, k)), _int8(rng, (k, n)), sparse)
        k_eff = k * sp_n // sp_m if sparse else k
        beats += -(-k_eff // L) * -(-n // chains) * -(-m // 2)

    jobs, expected = [], []
    for g in gemms:
        a, kept, index, sparse = g["a"], g["kept"], g["index"], g["sparse"]
        m, k_eff, n = a.shape[0], kept.shape[0], kept.shape[1]
        span = ka if sparse else L            # activation positions one fold consumes
        beats_of_job, partial = [], []
        for nb in range(-(-n // chains)):
            for f in range(-(-k_eff // L)):
                w_fold = np.zeros((chains, L), np.int64)
                i_fold = np.zeros((chains, L), np.int64)
                for c in range(chains):
                    col = nb * chains + c
                    if col < n:
                        part = kept[f * L:(f + 1) * L, col]
                        w_fold[c, :len(part)] = part
                        i_fold[c, :len(part)] = index[f * L:(f + 1) * L, col]
                for p in range(-(-m // 2)):
                    rows = np.zeros((2, ka), np.int64)
                    for r in range(2):
                        if 2 * p + r < m:
                            seg = a[2 * p + r, f * span:(f + 1) * span]
                            rows[r, :len(seg)] = seg
                    beats_of_job.append({"in_valid": 1, "sparse": int(sparse),
                                         "act": pack(rows.ravel(), 8),
                                         "wgt": pack(w_fold.ravel(), 8),
                                         "idx": pack(i_fold.ravel(), index_bits)})
        jobs.append({"beats": beats_of_job, "outputs": len(beats_of_job)})
    stim = _stream(jobs, {"in_valid": 0}, ["out"])
    stim["gemms"] = [{"a": g["a"].tolist(), "w": g["w"].tolist(), "sparse": g["sparse"]}
                     for g in gemms]
    return stim


def dsp_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    """Per beat: chain c's two INT32 outputs equal the fold's partial sums
    sum over the fold's dense k range of A[row, k] * W_pruned[k, col] (numpy int64);
    per GEMM: cycles == dsp_chain_cycles(m, n, k_eff, 1, CHAINS, L, 2)."""
    L, chains, sp_n, sp_m = params["L"], params["CHAINS"], params["SP_N"], params["SP_M"]
    result = CheckResult("dsp_chain", dsp_describe(params))
    for job, (g, seen) in enumerate(zip(stim["gemms"], obs["jobs"])):
        a, w, sparse = np.array(g["a"], np.int64), np.array(g["w"], np.int64), g["sparse"]
        m, k = a.shape
        n = w.shape[1]
        k_eff = k * sp_n // sp_m if sparse else k
        span = L * sp_m // sp_n if sparse else L
        expected = []
        for nb in range(-(-n // chains)):
            for f in range(-(-k_eff // L)):
                for p in range(-(-m // 2)):
                    beat = []
                    for c in range(chains):
                        col = nb * chains + c
                        for r in range(2):
                            row = 2 * p + r
                            if row < m and col < n:
                                ks = slice(f * span, min((f + 1) * span, k))
                                beat.append(int(a[row, ks] @ w[ks, col]))
                            else:
                                beat.append(None)
                    expected.append(beat)
        got = [unpack_signed(beat[0], 32, 2 * chains) for beat in seen["outputs"]]
        # padding lanes (rows past m, columns past n) compute on zero operands: expect 0
        expected = [[0 if v is None else v for v in beat] for beat in expected]
        result.vectors += len(expected)
        model = unit_models.dsp_chain_cycles(m, n, k_eff, 1, chains, L, 2)
        result.record_cycles(job, seen["cycles"], model)
        result.record_numerics(job, got, expected)
    return result


def dsp_describe(params: dict) -> str:
    return (f"L={params['L']} chains={params['CHAINS']} pack=2 "
            f"sparse {params['SP_N']}:{params['SP_M']}")


DSP_CHAIN = Unit("dsp_chain", "dsp_chain", "dsp_chain.v", "rtl_models.tb.stream_tb",
                 dsp_stimulus, dsp_check, dsp_describe)


# ---- vector unit: requantize ------------------------------------------------------------------
def requant_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """Passes of E elements (int32 accumulators, per-element Q31 multiplier and shift), `vectors`
    elements in all. Corner passes first: int32 extremes x largest multiplier at shifts 0 / 31 /
    62, all zero, zero multiplier, and exact .5 ties of both signs (acc odd, mult 1, shift 1)."""
    lanes = params["LANES"]
    int32_min, int32_max = intmath.INT32_MIN, intmath.INT32_MAX
    extremes = np.array([int32_min, int32_max, 0, -1, 1, int32_min + 1, 255, -255])
    passes = []
    for mult, shift in ((int32_max, 0), (int32_max, 31), (int32_max, 62), (2 ** 30, 38),
                        (0, 5), (1, 1)):
        passes.append((extremes, np.full(len(extremes), mult), np.full(len(extremes), shift)))
    ties = np.array([1, -1, 3, -3, 5, -5, 253, -253, 255, -255, 257, -257])
    passes.append((ties, np.ones(len(ties), np.int64), np.ones(len(ties), np.int64)))
    passes.append((np.zeros(lanes, np.int64), np.full(lanes, 2 ** 30), np.full(lanes, 31)))
    elements = sum(len(acc) for acc, _, _ in passes)
    while elements < vectors:
        e = int(rng.integers(1, 4 * lanes + 1))
        # accumulators of every magnitude, so that results are not all saturated
        bits = rng.integers(1, 33, size=e)
        acc = np.clip(rng.integers(-(2 ** 31), 2 ** 31, size=e) >> (32 - bits),
                      int32_min, int32_max)
        kind = int(rng.integers(4))
        if kind == 0:         # exact .5 ties: acc * 2^j / 2^(j+t+1) = r + 1/2
            j, t = rng.integers(0, 31, size=e), rng.integers(0, 8, size=e)
            r = rng.integers(-200, 200, size=e)
            acc, mult, shift = (2 * r + 1) << t, np.int64(1) << j, j + t + 1
        elif kind == 1:       # realistic multipliers from real scales in [2^-20, 2)
            real = np.exp2(rng.uniform(-20, 1, size=e))
            mult, shift = intmath.quantize_multipliers(real)
        else:                 # anything in range
            mult = rng.integers(0, 2 ** 31, size=e)
            shift = rng.integers(0, intmath.MAX_SHIFT + 1, size=e)
        passes.append((acc, mult, shift))
        elements += e
    jobs = []
    for acc, mult, shift in passes:
        beats = []
        for b in range(0, len(acc), lanes):
            sl = slice(b, b + lanes)
            beats.append({"in_valid": 1, "acc": pack(acc[sl], 32), "mult": pack(mult[sl], 32),
                          "shift": pack(shift[sl], 6)})
        jobs.append({"beats": beats, "outputs": len(beats)})
    stim = _stream(jobs, {"in_valid": 0}, ["out"])
    stim["passes"] = [{"acc": a.tolist(), "mult": m.tolist(), "shift": s.tolist()}
                      for a, m, s in passes]
    return stim


def requant_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    """Per pass: outputs == intmath.requantize(acc, mult, shift, 8) bit for bit; cycles ==
    vector_cycles(E, 1 pass, LANES, rate 1)."""
    lanes = params["LANES"]
    result = CheckResult("vector_requant", requant_describe(params))
    for job, (ps, seen) in enumerate(zip(stim["passes"], obs["jobs"])):
        acc = np.array(ps["acc"], np.int64)
        e = len(acc)
        result.vectors += e
        model = unit_models.vector_cycles(e, 1, lanes, 1)
        result.record_cycles(job, seen["cycles"], int(model))
        got = [v for beat in seen["outputs"] for v in unpack_signed(beat[0], 8, lanes)][:e]
        expected = intmath.requantize(acc, np.array(ps["mult"], np.int64),
                                      np.array(ps["shift"], np.int64), 8)
        result.record_numerics(job, got, expected)
    return result


def requant_describe(params: dict) -> str:
    return f"lanes={params['LANES']} REQUANT int32->int8 (Q31 mult, shift, half away)"


VECTOR_REQUANT = Unit("vector_requant", "vector_requant", "vector_requant.v",
                      "rtl_models.tb.stream_tb", requant_stimulus, requant_check,
                      requant_describe)

UNITS = {unit.name: unit for unit in (SYSTOLIC, DSP_CHAIN, VECTOR_REQUANT, PIM_BANK_MAC,
                                       VECTOR_REDUCE, VECTOR_EXP)}

# PIM bank points. NEUPIMS_PIM: targets/presets/neupims.yaml's PIM unit and HBM2 timing (16
# multipliers per bank, 1 KiB rows, tRCD = tRP = 14, tCCD_S = 1, tCCD_L = 2) with 2-byte elements
# as hwsim's service model charges them (int16 here, FP16 in NeuPIMs); ROWS / NMAX / MMAX only
# bound the stimulus. tests/rtl/test_pim_bank_mac.py checks it against the preset.
PIM_SMALL = {"MULT": 4, "ROW_BYTES": 32, "EB": 1, "ROWS": 16, "NMAX": 8, "MMAX": 4,
             "TRCD": 3, "TRP": 2, "TCCD_S": 1, "TCCD_L": 2}
NEUPIMS_PIM = {"MULT": 16, "ROW_BYTES": 1024, "EB": 2, "ROWS": 8, "NMAX": 8, "MMAX": 4,
               "TRCD": 14, "TRP": 14, "TCCD_S": 1, "TCCD_L": 2}

# Parameter points `hwsim cosim` checks (the tests cover more). Verilator builds cost ~10 s each,
# so it checks one point per unit. PIM "vectors" are query vectors (a few hundred cycles each).
COSIM_POINTS = {
    "icarus": [(SYSTOLIC, {"R": 4, "C": 4}), (SYSTOLIC, {"R": 3, "C": 5}),
               (SYSTOLIC, {"R": 8, "C": 8}),
               (DSP_CHAIN, {"L": 4, "CHAINS": 2, "SP_N": 2, "SP_M": 4}),
               (DSP_CHAIN, {"L": 8, "CHAINS": 3, "SP_N": 1, "SP_M": 4}),
               (DSP_CHAIN, {"L": 12, "CHAINS": 2, "SP_N": 2, "SP_M": 4}),
               (VECTOR_REQUANT, {"LANES": 4}), (VECTOR_REQUANT, {"LANES": 16}),
               (PIM_BANK_MAC, PIM_SMALL), (PIM_BANK_MAC, NEUPIMS_PIM),
               (VECTOR_REDUCE, {"LANES": 4}), (VECTOR_REDUCE, {"LANES": 16}),
               (PIM_BANK_MAC, {**NEUPIMS_PIM, "SEGS": 2}),
               (VECTOR_EXP, {"LANES": 4}), (VECTOR_EXP, {"LANES": 16})],
    "verilator": [(SYSTOLIC, {"R": 8, "C": 8}),
                  (DSP_CHAIN, {"L": 10, "CHAINS": 2, "SP_N": 2, "SP_M": 4}),
                  (VECTOR_REQUANT, {"LANES": 8}), (PIM_BANK_MAC, NEUPIMS_PIM),
                  (VECTOR_REDUCE, {"LANES": 8}), (VECTOR_EXP, {"LANES": 8})],
}
