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
    return p.preset in ("v100s", "a100", "h100")


KNOWN = [
    ("resource:buffers.a_buf.size_bytes", lambda p: p.preset.startswith("flightllm"),
     "finding 3: a smaller FlightLLM a_buf makes decode faster (branch fixes)"),
    ("utilisation", _neupims, "finding 2: NeuPIMs utilisation > 1 (branch neupims)"),
    ("batch", _neupims, "findings 1, 15: NeuPIMs batch cliff / non-monotone batch (branch neupims)"),
    ("batch@gemv_rows", _neupims, "finding 1: NeuPIMs batch 8 (vector-unit GEMV) slower than "
                                  "9 (systolic) (branch neupims)"),
    ("seq@gemv_rows", _neupims, "finding 1: NeuPIMs prefill of <= 8 tokens on the vector-unit "
                                "GEMV slower than longer ones (branch neupims)"),
    ("threshold", _neupims, "findings 1, 15: NeuPIMs sub-batch threshold cliff (branch neupims)"),
    ("option:kv_bits", _neupims, "finding 4: NeuPIMs ignores --kv-bits under PIM (branch neupims)"),
    ("capacity", _neupims, "finding 15: NeuPIMs capacity counts one sub-batch (branch neupims)"),
    ("ttft", _mobile, "finding 5: mobile generate TTFT bypasses mobile prefill (branch mobile)"),
    ("option:moe", _mobile_prefill, "finding 6: mobile prefill ignores MoE (branch mobile)"),
    ("option:mla", _mobile_prefill, "finding 6: mobile prefill ignores MLA (branch mobile)"),
    ("option:vocab", _mobile_prefill, "finding 6: mobile prefill ignores vocab (branch mobile)"),
    # found by this suite, on the same block-schedule path as findings 6 / 16 (lead: confirm
    # the mobile branch's rewrite covers them)
    ("option:quant", _mobile_prefill, "mobile prefill block schedule ignores --quant "
                                      "(findings 6/16 path, branch mobile)"),
    ("option:kv_bits", _mobile_prefill, "mobile prefill block schedule ignores --kv-bits "
                                        "(findings 6/16 path, branch mobile)"),
    ("option:sparsity", _mobile_prefill, "mobile prefill block schedule ignores --sparsity "
                                         "(findings 6/16 path, branch mobile)"),
    ("capacity", _mobile_prefill, "finding 6: mobile prefill skips the capacity check (branch "
                                  "mobile)"),
    ("roofline_agree", lambda p: True,
     "finding 9: simulate and roofline count different work (GPU vector peak; vector passes "
     "and output conversions elsewhere); branch fixes makes `hwsim roofline` the program bound"),
    # OPEN: found by this suite, no branch is fixing them yet (each pinned by an xfail in
    # test_counterexamples.py; see docs/fidelity.md "Invariants")
    ("batch@gemv_rows", lambda p: not _neupims(p),
     "finding 1's mechanism on other targets (OPEN unless branch neupims fixes it in "
     "partition): a fixed GEMV_MAX_ROWS = 8 moves 9-row products to the matrix unit whatever "
     "it costs there (mobile decode batch 9 3.3x slower than 8)"),
    ("seq@gemv_rows", lambda p: not _neupims(p),
     "finding 1's mechanism on other targets (OPEN unless branch neupims fixes it in "
     "partition): fixed GEMV_MAX_ROWS = 8"),
    ("resource:units.pim.multipliers_per_bank", _neupims,
     "OPEN: PIM layout sizes a GWRITE segment 32 x multipliers, spanning more DRAM rows"),
    ("option:sliding_window", lambda p: True, "finding 12: sliding_window parsed and ignored "
                                              "(branch fixes)"),
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
    ("mllm-npu-sd8gen3", "units.hmx.dataflow"):
        "finding 16: mobile prefill comes from the block schedule, which never uses the HMX "
        "systolic formula (branch mobile)",
    ("mllm-npu-sd8gen3", "units.hmx.weight_preload_overlap"):
        "finding 16: mobile prefill comes from the block schedule, which never uses the HMX "
        "systolic formula (branch mobile)",
}
