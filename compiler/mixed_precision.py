"""Mixed-precision weights (FlightLLM §4.3): each linear layer stores its weights at its own
width from {2, 3, 4, 8} bits and the DSP chains dequantise them to INT8 on chip, so the bytes
streamed from HBM per decode step shrink with the mean width.

FlightLLM picks widths per layer by sensitivity and reports the mean (3.5 bits for LLaMA2-7B);
the per-layer choice is not published. Here the widths bracketing the target's
`mechanisms.mean_weight_bits` are dealt out in program order by error diffusion, so the
element-weighted mean over the model equals the published mean to within one layer.
With `mechanisms.mixed_precision` off, every layer streams INT8 weights (the uniform baseline).
"""
from __future__ import annotations

WIDTHS_BITS = (2, 3, 4, 8)
UNIFORM_BITS = 8


def layer_bits(elements: list[int], mean_bits: float) -> list[int]:
    """Weight width per layer (same order as `elements`, each layer's weight count) such that
    sum(bits x elements) tracks mean_bits x sum(elements): each layer takes the bracketing
    width that leaves the running total closest to its target."""
    low = max(w for w in WIDTHS_BITS if w <= mean_bits)
    high = min(w for w in WIDTHS_BITS if w >= mean_bits)
    out, target, used = [], 0.0, 0
    for e in elements:
        target += mean_bits * e
        pick = high if abs(used + high * e - target) < abs(used + low * e - target) else low
        used += pick * e
        out.append(pick)
    return out


def mechanism_bits(target) -> float | None:
    """The mean width when the target's mixed-precision mechanism is on, None when it is off
    or the target has no such mechanism (then `mixed` streams INT8 weights)."""
    mech = getattr(target, "mechanisms", None)
    if mech is None or not getattr(mech, "mixed_precision", False):
        return None
    return float(mech.mean_weight_bits)
