"""The vector unit's VEXP slice (rtl_models/vector_exp.v) and its check against
isa.intmath.exp_q15 (numerics) and hwsim.unit_models.vector_cycles (cycles). Same structure as
rtl_models/units.py: seeded stimulus, a beat schedule for tb/stream_tb.py, a checker that looks
the model up at check time so a patched model fails."""
from __future__ import annotations

import numpy as np

from hwsim import unit_models
from isa import Opcode, intmath
from rtl_models.cosim import CheckResult, Unit, pack, unpack_signed
from rtl_models.unit_helpers import _int8, _stream


def exp_stimulus(params: dict, rng: np.random.Generator, vectors: int) -> dict:
    """Passes of E int8 elements sharing one (imm, shift), `vectors` elements in all. Corners
    first: every int8 q at the softmax scales 1/16 and 1/8 (exhaustive), the extreme multipliers
    (imm 0, imm 2^24 - 1 at shift 0 and 31), exact powers of two (phi = 0), q > 0, all -128."""
    lanes = params["LANES"]
    every = np.arange(-128, 128)
    passes = []
    for scale in (1 / 16, 1 / 8):
        passes.append((every, *intmath.exp_multiplier(scale)))
    for imm, shift in ((0, 0), (intmath.EXP_IMM_LIMIT - 1, 0), (intmath.EXP_IMM_LIMIT - 1, 31),
                       (1 << 20, 20), (1, 0), (3, 1)):
        passes.append((np.array([-128, -127, -17, -16, -2, -1, 0, 1, 127]), imm, shift))
    passes.append((np.full(lanes + 1, -128), *intmath.exp_multiplier(1 / 32)))
    elements = sum(len(q) for q, _, _ in passes)
    while elements < vectors:
        e = int(rng.integers(1, 4 * lanes + 1))
        q = _int8(rng, e)
        if rng.integers(2):
            imm, shift = intmath.exp_multiplier(float(np.exp2(rng.uniform(-10, 2))))
        else:
            imm = int(rng.integers(0, intmath.EXP_IMM_LIMIT))
            shift = int(rng.integers(0, intmath.EXP_MAX_SHIFT + 1))
        passes.append((q, imm, shift))
        elements += e
    jobs = []
    for q, imm, shift in passes:
        beats = [{"in_valid": 1, "q": pack(q[b:b + lanes], 8), "imm": int(imm), "shift": int(shift)}
                 for b in range(0, len(q), lanes)]
        jobs.append({"beats": beats, "outputs": len(beats)})
    stim = _stream(jobs, {"in_valid": 0}, ["out"])
    stim["passes"] = [{"q": q.tolist(), "imm": int(i), "shift": int(s)} for q, i, s in passes]
    return stim


def exp_check(params: dict, stim: dict, obs: dict) -> CheckResult:
    """Per pass: outputs == intmath.exp_q15(q, imm, shift) bit for bit; cycles ==
    vector_cycles(E, VECTOR_PASSES[VEXP], LANES, rate 1)."""
    lanes = params["LANES"]
    result = CheckResult("vector_exp", exp_describe(params))
    for job, (ps, seen) in enumerate(zip(stim["passes"], obs["jobs"])):
        q = np.array(ps["q"], np.int64)
        result.vectors += len(q)
        model = unit_models.vector_cycles(len(q), unit_models.VECTOR_PASSES[Opcode.VEXP],
                                          lanes, 1)
        result.record_cycles(job, seen["cycles"], int(model))
        got = [v for beat in seen["outputs"] for v in unpack_signed(beat[0], 16, lanes)][:len(q)]
        result.record_numerics(job, got, intmath.exp_q15(q, ps["imm"], ps["shift"]))
    return result


def exp_describe(params: dict) -> str:
    return f"lanes={params['LANES']} VEXP int8->int16 Q15 (shift + quadratic)"


VECTOR_EXP = Unit("vector_exp", "vector_exp", "vector_exp.v", "rtl_models.tb.stream_tb",
                  exp_stimulus, exp_check, exp_describe)
