"""The memory-side RTL units and their checks: the HBM-PIM bank MAC (NeuPIMs / Newton) and the
vector unit's row-wise max / sum reductions. Same structure as rtl_models/units.py (stimulus,
beat schedule, checker looked up through hwsim.unit_models at check time)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from hwsim import unit_models
from isa import intmath
from rtl_models.cosim import CheckResult, Unit, pack, unpack_signed
from rtl_models.unit_helpers import _int8, _stream

# ---- PIM bank MAC (NeuPIMs / Newton) -----------------------------------------------------------
def pim_timing(params: dict) -> SimpleNamespace:
    """The DRAM timing attributes pim_cycles reads (targets.memory's names), from the RTL
    parameters."""
    return SimpleNamespace(trcd_cycles=params["TRCD"], trp_cycles=params["TRP"],
                           tccd_s_cycles=params["TCCD_S"], tccd_l_cycles=params["TCCD_L"])


def _pim_shape(params: dict) -> dict:
    mult, eb = params["MULT"], params["EB"]
    cols = params["ROW_BYTES"] // (eb * mult)
    if cols < 1 or cols * eb * mult != params["ROW_BYTES"]:
        raise ValueError(f"pim_bank_mac: ROW_BYTES={params['ROW_BYTES']} must be a multiple of "
                         f"EB*MULT={eb * mult}")
    ew = 8 * eb
    segs = params.get("SEGS", 1)
    return {"mult": mult, "eb": eb, "ew": ew, "cols": cols, "seg": 32 * mult,
            "kmax": segs * 32 * mult,
            "capacity": params["ROWS"] * cols * mult, "lo": -(2 ** (ew - 1)),
            "hi": 2 ** (ew - 1) - 1}


def pim_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """GEMVs y_i = W x_i (W: n x k, m query vectors x_i), `vectors` query vectors in all. The
    setup writes W flat into the bank (the tail of the last column and x past k are random
    garbage: the RTL must mask them). Corner GEMVs first: all zero, the most negative operand
    everywhere (largest products: int16 saturates int32), most negative x most positive,
    k = 1 (every lane its own output), k not a multiple of MULT (columns straddle outputs),
    k = 32*MULT (full global buffer), the whole bank (every row), an int32 excursion that
    comes back (exact sum, then saturate), m = MMAX."""
    sh = _pim_shape(params)
    mult, kmax, cap, lo, hi = sh["mult"], sh["kmax"], sh["capacity"], sh["lo"], sh["hi"]
    seg = sh["seg"]
    nmax, mmax = params["NMAX"], params["MMAX"]
    rand = lambda shape: rng.integers(lo, hi + 1, size=shape, dtype=np.int64)  # noqa: E731
    gemvs = []

    def add(w, x):
        assert w.shape[0] <= nmax and w.shape[1] <= kmax and len(x) <= mmax
        assert _pim_rows(w.shape[0], w.shape[1], sh) <= params["ROWS"]
        gemvs.append((np.asarray(w, np.int64), np.asarray(x, np.int64)))

    k_full = min(kmax, cap)
    add(np.zeros((2, 5)), np.zeros((1, 5)))
    add(np.full((nmax, min(kmax, cap // nmax)), lo), np.full((2, min(kmax, cap // nmax)), lo))
    add(np.full((3, 7), lo), np.full((1, 7), hi))
    add(rand((nmax, 1)), rand((2, 1)))                                   # k = 1
    add(rand((min(nmax, cap // (mult + 1)), mult + 1)), rand((1, mult + 1)))
    add(rand((1, k_full)), rand((1, k_full)))                            # full global buffer
    n_all = min(nmax, cap // mult)
    k_all = min(kmax, cap // n_all)
    add(rand((n_all, k_all)), rand((1, k_all)))                          # (nearly) every row
    add(np.full((1, 4), lo), np.array([[lo, lo, hi, hi]]))               # excursion, comes back
    add(rand((1, 1)), rand((mmax, 1)))                                   # single element, m=MMAX
    if kmax > seg:   # several GWRITE segments: a full one plus a short rest, and all full
        for k in (seg + 1, kmax):
            n = max(1, min(nmax, (params["ROWS"] * sh["cols"] * mult) // k - 1))
            while _pim_rows(n, k, sh) > params["ROWS"]:
                n -= 1
            add(rand((n, k)), rand((min(2, mmax), k)))
    count = sum(len(x) for _, x in gemvs)
    while count < vectors:
        n = int(rng.integers(1, nmax + 1))
        k = int(rng.integers(1, min(kmax, cap // n) + 1))
        while _pim_rows(n, k, sh) > params["ROWS"]:
            k -= 1
        m = int(rng.integers(1, mmax + 1))
        w, x = rand((n, k)), rand((m, k))
        if rng.integers(4) == 0:        # extremes only: saturation (int16) and largest sums
            w = rng.choice([lo, hi], size=(n, k))
            x = rng.choice([lo, hi], size=(m, k))
        add(w, x)
        count += m
    jobs = []
    for w, x in gemvs:
        n, k = w.shape
        setup, row0 = [], 0
        for s0 in range(0, k, seg):        # each segment's n x k_s block from a fresh row
            flat = w[:, s0:s0 + seg].ravel()
            dots = -(-flat.size // mult)
            flat = np.concatenate([flat, rand(dots * mult - flat.size)])
            setup += [{"w_valid": 1, "w_addr": row0 * sh["cols"] + d,
                       "w_data": pack(flat[d * mult:(d + 1) * mult], sh["ew"])}
                      for d in range(dots)]
            row0 += -(-dots // sh["cols"])
        beats = [{"in_valid": 1, "n": n, "k": k,
                  "x": pack(np.concatenate([row, rand(kmax - k)]), sh["ew"])} for row in x]
        jobs.append({"setup": setup, "beats": beats, "outputs": len(x)})
    stim = _stream(jobs, {"in_valid": 0, "w_valid": 0}, ["out"])
    stim["gemvs"] = [{"w": w.tolist(), "x": x.tolist()} for w, x in gemvs]
    return stim


def _pim_rows(n: int, k: int, sh: dict) -> int:
    """DRAM rows a GEMV's n x k matrix takes: each segment from a fresh row."""
    rows = 0
    for s0 in range(0, k, sh["seg"]):
        k_s = min(sh["seg"], k - s0)
        rows += -(-(n * k_s * sh["eb"]) // (sh["cols"] * sh["mult"] * sh["eb"]))
    return rows


def pim_reference(w, x) -> np.ndarray:
    """Per query vector: the exact int64 dot products saturated to int32 (m x n)."""
    return intmath.saturate_int32(np.asarray(x, np.int64) @ np.asarray(w, np.int64).T)


def pim_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    """Per GEMV: cycles == pim_cycles(m, n, k, 1, timing, banks=1, MULT, ROW_BYTES, EB); every
    query vector's NMAX outputs == saturate_int32(W @ x) (zeros past n), bit for bit."""
    nmax, timing = params["NMAX"], pim_timing(params)
    result = CheckResult("pim_bank_mac", pim_describe(params))
    for job, (g, seen) in enumerate(zip(stim["gemvs"], obs["jobs"])):
        w, x = np.array(g["w"], np.int64), np.array(g["x"], np.int64)
        (n, k), m = w.shape, x.shape[0]
        result.vectors += m
        model = unit_models.pim_cycles(m, n, k, 1, timing, banks=1,
                                       multipliers=params["MULT"],
                                       row_bytes=params["ROW_BYTES"],
                                       element_bytes=params["EB"])
        result.record_cycles(job, seen["cycles"], int(model))
        expected = np.zeros((m, nmax), np.int64)
        expected[:, :n] = pim_reference(w, x)
        got = [unpack_signed(beat[0], 32, nmax) for beat in seen["outputs"]]
        result.record_numerics(job, got, expected)
    return result


def pim_describe(params: dict) -> str:
    return (f"mult={params['MULT']} row={params['ROW_BYTES']}B "
            f"int{8 * params['EB']} tRCD={params['TRCD']} tRP={params['TRP']} "
            f"tCCD_S={params['TCCD_S']} tCCD_L={params['TCCD_L']}")


PIM_BANK_MAC = Unit("pim_bank_mac", "pim_bank_mac", "pim_bank_mac.v", "rtl_models.tb.stream_tb",
                    pim_stimulus, pim_check, pim_describe)


# ---- vector unit: row-wise max / sum reductions ---------------------------------------------
REDUCE_OPS = {"max": 0, "sum": 1}


def reduce_reference(op: str, tile) -> np.ndarray:
    """Row-wise reduction of an int32 tile: max, or the exact int64 sum saturated to int32
    (intmath.saturate_int32: saturates, never wraps; saturation applies once, to the exact
    sum, so an excursion past the int32 range that comes back is exact)."""
    tile = np.asarray(tile, np.int64)
    if op == "max":
        return tile.max(axis=1)
    return intmath.saturate_int32(tile.sum(axis=1))


def reduce_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """Reductions of rows x cols int32 tiles, streamed flat (rows packed back to back, LANES per
    beat; lanes past the end carry garbage), `vectors` elements in all. Corner tiles first:
    sums saturating up and down, an excursion past int32 that comes back, all int32 minima
    (max), one-element rows (several rows per beat), rows of LANES and LANES + 1 elements."""
    lanes = params["LANES"]
    lo, hi = intmath.INT32_MIN, intmath.INT32_MAX
    tiles = [("sum", np.full((2, 3), hi)), ("sum", np.full((1, 5), lo)),
             ("sum", np.array([[hi, hi, -hi, -hi], [lo, lo, hi, hi]])),
             ("sum", np.array([[hi, 1], [lo, -1]])), ("sum", np.zeros((2, lanes))),
             ("max", np.full((3, lanes + 1), lo)), ("max", np.array([[lo, lo + 1, lo]])),
             ("max", rng.integers(lo, 0, size=(2, 2 * lanes + 3))),
             ("sum", rng.integers(lo, hi + 1, size=(2 * lanes + 1, 1))),
             ("max", rng.integers(lo, hi + 1, size=(3 * lanes, 1)))]
    elements = sum(t.size for _, t in tiles)
    while elements < vectors:
        op = "max" if rng.integers(2) == 0 else "sum"
        rows = int(rng.integers(1, 7))
        cols = int(rng.integers(1, 3 * lanes + 3))
        bits = rng.integers(1, 33, size=(rows, cols))     # every magnitude
        tile = rng.integers(lo, hi + 1, size=(rows, cols)) >> (32 - bits)
        tiles.append((op, tile))
        elements += tile.size
    jobs = []
    for op, tile in tiles:
        rows, cols = tile.shape
        flat = tile.ravel()
        beats = []
        for b in range(0, flat.size, lanes):
            chunk = flat[b:b + lanes]
            pad = rng.integers(lo, hi + 1, size=lanes - len(chunk))
            beats.append({"in_valid": 1, "first": int(b == 0), "op": REDUCE_OPS[op],
                          "cols": cols, "count": len(chunk),
                          "x": pack(np.concatenate([chunk, pad]), 32)})
        ending = {((r + 1) * cols - 1) // lanes for r in range(rows)}
        jobs.append({"beats": beats, "outputs": len(ending)})
    stim = _stream(jobs, {"in_valid": 0, "first": 0}, ["out", "out_mask"])
    stim["tiles"] = [{"op": op, "tile": t.tolist()} for op, t in tiles]
    return stim


def reduce_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    """Per reduction: each result beat's (out_mask, lane values) == the rows that end in that
    beat at their last element's lane, valued reduce_reference(op, tile), bit for bit;
    cycles == vector_cycles(rows * cols, 1 pass, LANES, rate 1)."""
    lanes = params["LANES"]
    result = CheckResult("vector_reduce", reduce_describe(params))
    for job, (t, seen) in enumerate(zip(stim["tiles"], obs["jobs"])):
        tile = np.array(t["tile"], np.int64)
        rows, cols = tile.shape
        result.vectors += tile.size
        model = unit_models.vector_cycles(tile.size, 1, lanes, 1.0)
        result.record_cycles(job, seen["cycles"], int(model))
        values = reduce_reference(t["op"], tile)
        beats: dict[int, list] = {}
        for r in range(rows):
            last = (r + 1) * cols - 1
            beat = beats.setdefault(last // lanes, [0] * (lanes + 1))
            beat[0] |= 1 << (last % lanes)
            beat[1 + last % lanes] = int(values[r])
        expected = [beats[b] for b in sorted(beats)]
        got = [[out[1]] + unpack_signed(out[0], 32, lanes) for out in seen["outputs"]]
        result.record_numerics(job, got, expected)
    return result


def reduce_describe(params: dict) -> str:
    return f"lanes={params['LANES']} VMAX / VSUM int32 (sum saturates at int32)"


VECTOR_REDUCE = Unit("vector_reduce", "vector_reduce", "vector_reduce.v",
                     "rtl_models.tb.stream_tb", reduce_stimulus, reduce_check, reduce_describe)
