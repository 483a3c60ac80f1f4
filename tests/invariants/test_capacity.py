"""Capacity: a run is refused exactly when the off-chip bytes it must hold exceed the target's
main memory, on every path (mobile prefill included).

The target's capacity is set (`--set memories.M.capacity_bytes`) to a multiple of an
independent estimate (tests/invariants/sizes.py: weights + KV cache by closed formula). Below
the estimate the run must be refused; above estimate x (1 + ACTIVATION_ROOM) + PAGES it must
run. Between, the simulator's own extra (spilled activations, logits, 4 KiB page rounding per
region) decides, so the band is not checked. Full-size zoo models cut to one layer keep the
extra small against the weights.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.frontend import load_model
from tests.invariants import profiles, runner
from tests.invariants.check import holds
from tests.invariants.runner import is_refusal
from tests.invariants.sizes import needed_bytes
from tests.invariants.strategies import FULL_ZOO, PRESETS, Point

ACTIVATION_ROOM = 0.10
PAGES = 16 << 20  # 4 KiB page rounding of every region, and small activations
FACTORS = (0.5, 0.9, 0.97, 1.3, 2.0)


@st.composite
def capacity_cases(draw):
    preset = draw(st.sampled_from(PRESETS))
    name = draw(st.sampled_from(FULL_ZOO))
    phase = draw(st.sampled_from(("prefill", "decode", "generate")))
    mobile = preset == "mllm-npu-sd8gen3" and phase != "decode"
    fields = {"phase": phase, "batch": 1 if mobile else draw(st.sampled_from((1, 4, 16))),
              "seq": draw(st.sampled_from((16, 64))), "gen": 2,
              "context": draw(st.sampled_from((64, 1024, 4096))),
              "quant": draw(st.sampled_from(("fp16", "w8a8", "w4a16"))),
              "kv_bits": draw(st.sampled_from((16, 8, 4))), "layers": 1}
    return Point(name, 1, preset, (), tuple(sorted(fields.items()))), draw(st.sampled_from(FACTORS))


def check_capacity(point, factor) -> None:
    if is_refusal(point.run()) and factor >= 1:
        return  # refused for another reason (a --quant the target cannot run) at any size
    target = runner.load(point.preset)
    memory = target.main_memory
    need = needed_bytes(load_model(point.model), point.fields)
    capacity = int(need * factor) if factor < 1 else int(need * factor * (1 + ACTIVATION_ROOM)
                                                          + PAGES)
    result = point.run((f"memories.{memory}.capacity_bytes={capacity}",))
    if factor < 1:
        holds("capacity", point, is_refusal(result),
              f"runs with {memory} at {capacity} B, below the {need:.0f} B of weights + KV")
    else:
        holds("capacity", point, not is_refusal(result),
              f"refused with {memory} at {capacity} B for {need:.0f} B of weights + KV: "
              f"{getattr(result, 'message', '')}")


@profiles.fast(30)
@given(case=capacity_cases())
def test_refused_exactly_when_it_does_not_fit(case):
    check_capacity(*case)


@pytest.mark.campaign
@profiles.slow(600)
@given(case=capacity_cases())
def test_refused_exactly_when_it_does_not_fit_slow(case):
    check_capacity(*case)
