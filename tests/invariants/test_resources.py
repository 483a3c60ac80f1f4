"""More of a resource is never slower; fewer is never faster.

Resources: every clock, the main memory's bandwidth (and its channels, each bringing its
bandwidth), every buffer's bytes and ports, every unit's count / lanes / cores / chains /
PIM multipliers. Not a resource here: a systolic array's rows and cols. A larger array pays
2 x rows + cols cycles of fill and drain per fold, so a matrix smaller than the array runs
slower on it (hwsim.unit_models.systolic_cycles, SCALE-Sim's fold): a real effect, see
docs/fidelity.md "Invariants". Nor a GPU's SM `count`: its tensor peak is the datasheet's
whole-chip `peak_flops_per_s`, so more SMs at that peak are slower SMs, and a GEMM of fewer
CTA tiles than SMs runs slower on them (hwsim/timing/gpu_waves.py, wave quantization).

Exception, double-buffered tile pipeline (compiler/passes/tile.py): the tile pass takes the
largest tiles that fit a buffer's halves, and a pipeline's fill (the first tile's load) and
drain (the last tile's compute) are one tile long, so a larger buffer can make an op slower
by part of a tile while it moves fewer bytes: flightllm-u280 phi-2 prefill 6.7 % slower with
b_buf 512 KiB than 256 KiB, h100 decode 2-3 % slower with a 200 MB than a 100 MB L2.
TILE_FILL_SLACK bounds it for `buffers.*.size_bytes`.

Exception, DRAM address mapping (hwsim.memory.kernel.dram_locate: row, column-high, bank,
channel, column-low): more channels spread the same bytes over more banks, so which earlier
transfer has already opened the DRAM row a later transfer needs changes with the channel count,
and an in-order queue pays each activate (tRCD) it meets in series. neupims tiny-llama prefill
of 16 tokens: the KV cache's four 512 B stores find their rows opened by q_proj's weight load
with 8 channels (12 ns each) and closed with 16 (26 ns each), and the step takes 1.805 us
against 1.789 us (0.9 %). A memory controller with this address map meets the same closed
banks. MAPPING_SLACK (test_monotone) bounds it for `memories.*.channels`, and only where the
run with more channels does activate more rows (the mechanism's signature); every other
resource is exact.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targets.ranges import range_of
from tests.invariants import profiles
from tests.invariants.check import holds
from tests.invariants.runner import is_refusal
from tests.invariants.strategies import PRESETS, Point, model, resource_fields, scaled, workload
from tests.invariants.test_monotone import MAPPING_SLACK

REL = 1e-9
TILE_FILL_SLACK = 0.10


@st.composite
def resource_pairs(draw):
    """(point, key, smaller overrides, larger overrides): one resource at two amounts."""
    preset = draw(st.sampled_from(PRESETS))
    name, layers = draw(model())
    point = Point(name, layers, preset, (), draw(workload(target=preset)))
    key = draw(st.sampled_from(resource_fields(preset)))
    low, high = sorted(draw(st.lists(st.sampled_from((0.25, 0.5, 1.0, 2.0, 4.0)), min_size=2,
                                     max_size=2, unique=True)))
    small = () if low == 1.0 else scaled(preset, key, low)
    large = () if high == 1.0 else scaled(preset, key, high)
    return point, key, small, large


def check_resource(point, key, small, large) -> None:
    if not _plausible(large):
        return  # x4 of a preset value can leave the schema's plausible range (targets/ranges.py)
    slow, fast = point.run(small), point.run(large)
    if is_refusal(fast):
        holds(f"resource:{key}", point, is_refusal(slow),
              f"more {key} ({large}) is refused ({fast.message}) but less ({small}) runs")
        return
    if is_refusal(slow):
        return  # less of a resource may not fit
    slack = _slack(key, slow, fast)
    holds(f"resource:{key}", point, fast["seconds"] <= slow["seconds"] * (1 + slack),
          f"more {key}: {large} takes {fast['seconds']} s, less: {small or 'preset'} takes "
          f"{slow['seconds']} s")


def _plausible(sets: tuple) -> bool:
    """Every `key=value` of `sets` lies in its field's plausible range: a value outside it is
    refused by design (h100 HBM clock x4 = 10.5 GHz > 10 GHz), not for want of a resource."""
    for item in sets:
        key, value = item.split("=", 1)
        span = range_of(key.rsplit(".", 1)[-1])
        if span is not None and not span[0] <= float(value) <= span[1]:
            return False
    return True


def _slack(key: str, slow: dict, fast: dict) -> float:
    """The named exception a resource's comparison allows (module docstring), else REL."""
    if key.startswith("buffers.") and key.endswith(".size_bytes"):
        return TILE_FILL_SLACK
    if key.startswith("memories.") and key.endswith(".channels") and \
            _activations(fast) > _activations(slow):
        return MAPPING_SLACK
    return REL


def _activations(result: dict) -> int:
    return result.get("dram", {}).get("activations", 0)


@profiles.fast(60)
@given(case=resource_pairs())
def test_more_resource_never_slower(case):
    check_resource(*case)


@pytest.mark.campaign
@profiles.slow(900)
@given(case=resource_pairs())
def test_more_resource_never_slower_slow(case):
    check_resource(*case)
