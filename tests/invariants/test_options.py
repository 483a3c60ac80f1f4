"""Every accepted option changes the result or is refused with one line: no option is silently
ignored on any target. Each case runs the same point with two values of one option (workload:
kv-bits, sparsity, quant, layers; model: sliding window, MoE top-k, MLA latent rank, vocabulary)
and requires the two results to differ (time, energy, bytes or instructions) unless one is a
refusal.

Equal by definition, so not compared: `--sparsity block` below two 64-key attention blocks
(nothing to skip; compared at seq and context 256 instead); --kv-bits 16 with int8
activations (w8a8, w4a8) stores the cache as int8 (compiler.passes.quantize.kv_bits_for),
exactly as --kv-bits 8 does.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.invariants import profiles, runner
from tests.invariants.check import holds
from tests.invariants.runner import is_refusal
from tests.invariants.strategies import PRESETS, Point, hf_config, model, workload
from compiler.quant_defaults import DEFAULT_QUANT

FLOAT_ACT = ("fp16", "w8a16", "w4a16")


def signature(result) -> tuple:
    return (result["seconds"], result["energy_j"], tuple(sorted(result["bytes"].items())),
            tuple(sorted(result["instructions"].items())) if isinstance(
                result["instructions"], dict) else result["instructions"])


def _quant(point) -> str:
    q = point.fields["quant"]
    return DEFAULT_QUANT[runner.load(point.preset).family] if q == "auto" else q


@st.composite
def option_cases(draw):
    """(option name, point A, point B)."""
    option = draw(st.sampled_from(("kv_bits", "sparsity", "quant", "layers", "sliding_window",
                                   "moe", "mla", "vocab")))
    preset = draw(st.sampled_from(PRESETS))
    phase = draw(st.sampled_from(("prefill", "decode")))
    w = draw(workload(phase=phase, target=preset))
    if option in ("kv_bits", "sparsity", "quant", "layers"):
        name, layers = draw(model())
        if option == "layers":
            name, layers = draw(st.sampled_from(("tiny-llama", "tiny-mixtral", "tiny-opt"))), None
        a = Point(name, layers, preset, (), w)
        if option == "kv_bits":
            pair = (8, 4) if _quant(a) not in FLOAT_ACT else draw(st.sampled_from(((16, 8), (8, 4))))
            return option, a.with_workload(kv_bits=pair[0]), a.with_workload(kv_bits=pair[1])
        if option == "sparsity":
            mode = draw(st.sampled_from(("2:4", "1:2", "8:16", "block")))
            if mode == "block":  # skips 64-key attention blocks: needs more than one block
                a = a.with_workload(seq=256, context=256)
            return option, a.with_workload(sparsity=None), a.with_workload(sparsity=mode)
        if option == "quant":
            q1, q2 = draw(st.lists(st.sampled_from(("fp16", "w8a8", "w4a16", "w4a8")),
                                   min_size=2, max_size=2, unique=True))
            return option, a.with_workload(quant=q1), a.with_workload(quant=q2)
        return option, a.with_workload(layers=1), a.with_workload(layers=2)
    family = {"sliding_window": "dense", "moe": "moe", "mla": "mla"}.get(option) or \
        draw(st.sampled_from(("dense", "gqa", "moe", "mla", "opt")))
    config = draw(hf_config(family))
    if option == "sliding_window":
        config = {**config, "model_type": "mistral"}
        w = tuple((k, v) for k, v in w if k not in ("context", "seq")) + (
            ("context", 256), ("seq", 128))
        other = {**config, "sliding_window": draw(st.sampled_from((8, 32, 64)))}
    elif option == "moe":
        config = {**config, "num_local_experts": 4, "num_experts_per_tok": 1}
        other = {**config, "num_experts_per_tok": 2}
    elif option == "mla":
        config = {**config, "kv_lora_rank": 16}
        other = {**config, "kv_lora_rank": 64}
    else:
        config = {**config, "vocab_size": 128}
        other = {**config, "vocab_size": 4096}
    return (option, Point(runner.model_path(config), None, preset, (), w),
            Point(runner.model_path(other), None, preset, (), w))


def check_option(option, a, b) -> None:
    ra, rb = a.run(), b.run()
    if is_refusal(ra) or is_refusal(rb):
        return
    holds(f"option:{option}", b, signature(ra) != signature(rb),
          f"{option}: {a!r} and {b!r} give the same result")


@profiles.fast(60)
@given(case=option_cases())
def test_every_option_changes_the_result_or_is_refused(case):
    check_option(*case)


@pytest.mark.campaign
@profiles.slow(1000)
@given(case=option_cases())
def test_every_option_changes_the_result_or_is_refused_slow(case):
    check_option(*case)
