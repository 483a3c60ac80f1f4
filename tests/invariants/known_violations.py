"""THE table of known invariant violations that other branches are fixing.

Each entry: (property, predicate over the Point, reason naming the finding of issue #18 and the
branch). A violation of `property` at a point an entry matches is tolerated (like
`xfail(strict=False)`): the check still runs, and a point that passes is simply a pass. Any
other violation fails. After merging the fix, delete the entry: the property is strict there.

Properties: resource:<dotted key>, batch, context, seq (and batch@gemv_rows, seq@gemv_rows:
their violations across partition's GEMV_MAX_ROWS), threshold, utilisation, energy, roofline,
roofline_agree, ttft, tpot, option:<name>, capacity.
"""
from __future__ import annotations


def _neupims(p) -> bool:
    return p.preset == "neupims"


def _mobile(p) -> bool:
    return p.preset == "mllm-npu-sd8gen3"


def _mobile_prefill(p) -> bool:
    return _mobile(p) and p.fields["phase"] in ("prefill", "generate")


def _gpu(p) -> bool:
    return p.preset in ("v100s", "v100-pcie-16gb", "a100", "h100")


KNOWN = [
    # Every finding of issue 18 this suite saw (1, 2, 3, 4, 5, 6, 9, 12, 14, 15, 16) is merged
    # and its entry removed. OPEN: found by this suite, no branch is fixing them yet (see
    # docs/fidelity.md "Invariants").
    ("seq@gemv_rows", _gpu,
     "OPEN, finding 1 residual on GPUs: h100 prefill of 2 x 1 tokens (GEMV) 3 % slower than "
     "2 x 35 (matrix product); partition's estimate and the GPU's GEMV time disagree"),
]


def reason(prop: str, point) -> str | None:
    """The known finding that covers a violation of `prop` at `point`, or None."""
    for name, applies, why in KNOWN:
        if name == prop and applies(point):
            return why
    return None


# Mechanism switches no run notices yet, (preset, dotted key) -> reason; the switch walk
# (test_mechanism_switches.py) marks them xfail(strict=False).
KNOWN_SWITCHES = {
}
