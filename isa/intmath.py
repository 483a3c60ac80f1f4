"""Integer primitives of the quantized path, defined exactly once.

These definitions are the contract the simulator's functional mode and the RTL units must meet
bit for bit. All integer arithmetic is exact (numpy int64, never float); the only float steps are
the ones named "float" below, and they are IEEE-754 operations in a stated precision.

Symmetric quantization, `bits`-bit signed integers (int8 containers for bits <= 8):
    qmax(bits)                 = 2**(bits-1) - 1            (127 for int8, 7 for int4)
    saturate(v, bits)          = min(max(v, -2**(bits-1)), 2**(bits-1) - 1)
    round_half_away(v)         = sign(v) * floor(|v| + 1/2)   (2.5 -> 3, -2.5 -> -3)
    scale_for(maxabs, bits)    = max(float32(maxabs / qmax(bits)), float32 tiny),
                                 or 1.0 when maxabs == 0
    quantize(x, s, bits)       = saturate(round_half_away(float64(x) / float64(s)), bits)
    dequantize(q, s)           = float32(q) * float32(s)      (one float32 multiply)

Fixed-point requantization of an int32 accumulator (TFLite-style Q31 multiplier):
    quantize_multiplier(M)     = (mult, shift) with mult in [2**30, 2**31), shift in [0, 62],
                                 mult / 2**shift ~= M (relative error <= 2**-31)
    requantize(acc, mult, shift, bits)
                               = saturate(round_half_away(acc * mult / 2**shift), bits)
      computed exactly: p = acc * mult (|p| < 2**62 fits int64);
      shift == 0: r = p;  else r = sign(p) * ((|p| + 2**(shift-1)) >> shift).

Integer exponential of the VEXP instruction (softmax's exp; shift-and-polynomial, I-BERT-like),
`exp_q15(q, imm, shift)`, int8 q, imm in [0, 2**24), shift in [0, 31]:
    the input means x = q * s with imm / 2**shift = s * log2(e) (`exp_multiplier(s)`), and
    softmax feeds x <= 0 (q - max(q)); q > 0 is taken as 0 (result ~1).
    u      = max(-q, 0) * imm                  (exact, < 2**31; -x * log2(e) = u / 2**shift)
    z      = u >> shift;  f = u mod 2**shift   (2**(-u / 2**shift) = 2**-z * 2**(-f / 2**shift))
    phi    = f >> (shift - 15) if shift >= 15 else f << (15 - shift)      (Q15, in [0, 2**15))
    sq     = (phi * phi) >> 15
    p      = (EXP_C0 * 2**15 + EXP_C1 * phi + EXP_C2 * sq + 2**14) >> 15  (Q15 of 2**-phi)
    result = p if z == 0 else (p + 2**(z-1)) >> z  (0 once z > 16), int16 in Q15 (1.0 = 2**15)
  with (EXP_C0, EXP_C1, EXP_C2) = (32727, -21939, 5636): a minimax-fitted quadratic of 2**-phi on
  [0, 1) in Q15 (its own error <= 1.25e-3). Worst case over every int8 q and every (imm, shift):
  |result / 2**15 - 2**(-u / 2**shift)| <= EXP_MAX_ABS_ERROR = 1.35e-3 (polynomial, phi truncated
  to Q15, final rounding); tests/isa/test_intmath_exp.py checks it exhaustively over q.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
MAX_SHIFT = 62


def qmax(bits: int) -> int:
    """Largest magnitude a symmetric `bits`-bit quantizer produces: 2**(bits-1) - 1."""
    return 2 ** (bits - 1) - 1


def saturate(values, bits: int) -> np.ndarray:
    """Clip integers (or integral floats) to the signed `bits`-bit range; int64 result."""
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return np.clip(np.asarray(values), lo, hi).astype(np.int64)


def saturate_int8(values) -> np.ndarray:
    return saturate(values, 8).astype(np.int8)


def saturate_int32(values) -> np.ndarray:
    """Accumulators saturate (never wrap) at the int32 range; int64 container."""
    return np.clip(np.asarray(values, dtype=np.int64), INT32_MIN, INT32_MAX)


def round_half_away(values) -> np.ndarray:
    """sign(v) * floor(|v| + 0.5) in float64; +-inf stay infinite (saturate clips them)."""
    v = np.asarray(values, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def div_round_half_away(num, den) -> np.ndarray:
    """Exact integer round_half_away(num / den) for integer num and integer den > 0:
    sign(num) * ((2 |num| + den) // (2 den))."""
    num, den = np.asarray(num, dtype=np.int64), np.asarray(den, dtype=np.int64)
    return np.sign(num) * ((2 * np.abs(num) + den) // (2 * den))


def scale_for(maxabs, bits: int) -> np.ndarray:
    """Symmetric scale float32(maxabs / qmax(bits)); 1.0 where maxabs is 0 (an all-zero
    tensor quantizes to zeros under any scale); never below float32's smallest normal, so a
    subnormal maximum cannot round the scale to zero."""
    m = np.asarray(maxabs, dtype=np.float64)
    scale = np.where(m > 0, m / qmax(bits), 1.0).astype(np.float32)
    return np.maximum(scale, np.finfo(np.float32).tiny)


def quantize(x, scale, bits: int = 8) -> np.ndarray:
    """saturate(round_half_away(float64(x) / float64(scale)), bits) as int8 (bits <= 8).
    `scale` broadcasts against x (per tensor, per channel or expanded per group)."""
    ratio = np.asarray(x, dtype=np.float64) / np.asarray(scale, dtype=np.float64)
    return saturate(round_half_away(ratio), bits).astype(np.int8 if bits <= 8 else np.int64)


def dequantize(q, scale) -> np.ndarray:
    """float32(q) * float32(scale): one correctly rounded float32 multiply per element."""
    return np.asarray(q).astype(np.float32) * np.asarray(scale, dtype=np.float32)


# ---- weight scales --------------------------------------------------------------------------
def channel_scales(w: np.ndarray, bits: int) -> np.ndarray:
    """Per-output-channel scales of a weight (..., K, N): max |w| over K, shape (..., 1, N)."""
    return scale_for(np.max(np.abs(w), axis=-2, keepdims=True), bits)


def group_maxabs(w: np.ndarray, group: int) -> np.ndarray:
    """max |w| over consecutive groups of `group` rows along K of (..., K, N): shape
    (..., ceil(K / group), N); the last group may be shorter."""
    k = w.shape[-2]
    return np.stack([np.max(np.abs(w[..., g:g + group, :]), axis=-2)
                     for g in range(0, k, group)], axis=-2)


def expand_groups(per_group: np.ndarray, group: int, k: int) -> np.ndarray:
    """(..., G, N) -> (..., K, N): each group's value repeated over its rows of K."""
    return np.repeat(per_group, group, axis=-2)[..., :k, :]


def group_scales(w: np.ndarray, bits: int, group: int) -> np.ndarray:
    """Per-group float32 scales (..., ceil(K / group), N) of a weight (..., K, N)."""
    return scale_for(group_maxabs(w, group), bits)


def quantize_two_level(w: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int4 weights with integer group scales over an int8 per-channel grid (w4a8).

    1. s_ch = channel_scales(w, 8) (..., 1, N);  w8 = quantize(w, s_ch, 8) in [-127, 127]
    2. per group of `group` K rows: g = max(1, ceil(max |w8| / 7)) (integer in [1, 19])
    3. q4 = saturate(div_round_half_away(w8, g), 4) in [-7, 7]
    The integer weight used by the GEMM is q4 * g (|q4 * g| <= 133); w ~= q4 * g * s_ch.
    Returns (q4 int8 (..., K, N), g int64 (..., G, N), s_ch float32 (..., 1, N)).
    """
    s_ch = channel_scales(w, 8)
    w8 = quantize(w, s_ch, 8).astype(np.int64)
    g = np.maximum(1, -(-group_maxabs(w8, group) // 7)).astype(np.int64)
    q4 = saturate(div_round_half_away(w8, expand_groups(g, group, w.shape[-2])), 4)
    return q4.astype(np.int8), g, s_ch


# ---- fixed-point requantization -------------------------------------------------------------
def quantize_multiplier(real: float) -> tuple[int, int]:
    """real >= 0 -> (mult, shift), mult / 2**shift ~= real, mult in [2**30, 2**31) (Q31).

    real = m * 2**e with m in [0.5, 1) (frexp); mult = floor(m * 2**31 + 1/2), renormalized
    when it rounds up to 2**31; shift = 31 - e. A shift past 62 is brought to 62 by rounding
    mult down to mult / 2**(shift - 62) (half away). real == 0 gives (0, 0).
    Raises ValueError for real >= 2**31 or a non-finite or negative real.
    """
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"requantization multiplier must be finite and >= 0, not {real}")
    if real == 0.0:
        return 0, 0
    m, e = math.frexp(real)
    mult = math.floor(m * 2 ** 31 + 0.5)
    if mult == 2 ** 31:
        mult, e = mult // 2, e + 1
    shift = 31 - e
    if shift < 0:
        raise ValueError(f"requantization multiplier {real} is >= 2**31")
    if shift > MAX_SHIFT:
        extra = shift - MAX_SHIFT
        mult = (mult + (1 << (extra - 1))) >> extra
        shift = MAX_SHIFT
    return int(mult), int(shift)


def quantize_multipliers(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise quantize_multiplier over an array; int64 arrays (mult, shift)."""
    flat = np.asarray(real, dtype=np.float64).ravel()
    pairs = [quantize_multiplier(float(r)) for r in flat]
    mult = np.array([p[0] for p in pairs], dtype=np.int64).reshape(np.shape(real))
    shift = np.array([p[1] for p in pairs], dtype=np.int64).reshape(np.shape(real))
    return mult, shift


def requantize(acc, mult, shift, bits: int = 8) -> np.ndarray:
    """saturate(round_half_away(acc * mult / 2**shift), bits), exactly, as int8 (bits <= 8).

    acc: int32 accumulators (any int container, values in [-2**31, 2**31 - 1]);
    mult: int in [0, 2**31); shift: int in [0, 62]; mult and shift broadcast against acc
    (per-output-channel multipliers are the usual case).
    """
    acc = np.asarray(acc, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if np.any(acc < INT32_MIN) or np.any(acc > INT32_MAX):
        raise ValueError("requantize: accumulator outside the int32 range")
    if np.any(mult < 0) or np.any(mult > INT32_MAX) or np.any(shift < 0) \
            or np.any(shift > MAX_SHIFT):
        raise ValueError("requantize: multiplier must be in [0, 2**31) and shift in [0, 62]")
    p = acc * mult
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    r = np.sign(p) * np.right_shift(np.abs(p) + half, shift)
    out = saturate(r, bits)
    return out.astype(np.int8) if bits <= 8 else out


# ---- VEXP: integer exponential (see the module docstring) ------------------------------------
EXP_C0, EXP_C1, EXP_C2 = 32727, -21939, 5636
EXP_FRACTION_BITS = 15
EXP_MAX_ABS_ERROR = 1.35e-3
EXP_IMM_LIMIT = 2 ** 24
EXP_MAX_SHIFT = 31


def exp_multiplier(scale: float) -> tuple[int, int]:
    """Input scale s (x = q * s) -> (imm, shift) with imm / 2**shift ~= s * log2(e): the largest
    shift in [0, 31] that keeps imm = round(s * log2(e) * 2**shift) below 2**24. Raises
    ValueError for a scale that is not finite and positive, or too large for imm at shift 0."""
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"exp input scale must be finite and > 0, not {scale}")
    real = scale * math.log2(math.e)
    for shift in range(EXP_MAX_SHIFT, -1, -1):
        imm = round(real * 2 ** shift)
        if imm < EXP_IMM_LIMIT:
            return int(imm), shift
    raise ValueError(f"exp input scale {scale} needs imm >= 2**24 even at shift 0")


def exp_q15(q, imm, shift) -> np.ndarray:
    """The VEXP integer exponential (module docstring): int8 q -> int16 Q15 ~ exp(min(q, 0) * s)
    with imm / 2**shift = s * log2(e). imm in [0, 2**24) and shift in [0, 31] broadcast."""
    q = np.asarray(q, dtype=np.int64)
    imm = np.asarray(imm, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if np.any(q < -128) or np.any(q > 127):
        raise ValueError("exp_q15: input outside the int8 range")
    if np.any(imm < 0) or np.any(imm >= EXP_IMM_LIMIT) or np.any(shift < 0) \
            or np.any(shift > EXP_MAX_SHIFT):
        raise ValueError("exp_q15: imm must be in [0, 2**24) and shift in [0, 31]")
    u = np.maximum(-q, 0) * imm
    z = np.right_shift(u, shift)
    f = u - np.left_shift(z, shift)
    phi = np.where(shift >= 15, np.right_shift(f, np.maximum(shift - 15, 0)),
                   np.left_shift(f, np.maximum(15 - shift, 0)))
    sq = np.right_shift(phi * phi, 15)
    p = np.right_shift(EXP_C0 * 2 ** 15 + EXP_C1 * phi + EXP_C2 * sq + 2 ** 14, 15)
    zc = np.minimum(z, 17)
    rounded = np.right_shift(p + np.left_shift(1, np.maximum(zc - 1, 0)), zc)
    return np.where(zc == 0, p, np.where(zc > 16, 0, rounded)).astype(np.int64)
