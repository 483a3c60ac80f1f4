"""Facts derived from a target alone (the verifier's Resources, the compiler's buffer plan) are
built once per loaded (frozen, shared) target, equal what a fresh build gives, and refuse
changes; a copy of a target builds its own at every call (targets/frozen.remembered_fact)."""
import copy

import pytest

import targets
from compiler.buffer_plan import _plan, plan_buffers


@pytest.mark.parametrize("name, sets", [("neupims", ["units.systolic.count=1"]),
                                        ("flightllm-u280", []), ("a100", [])])
def test_isa_resources_built_once_and_equal_to_a_fresh_build(name, sets):
    loaded = targets.load_target(name, sets)
    first = loaded.isa_resources()
    assert loaded.isa_resources() is first
    fresh = loaded._isa_resources()
    assert fresh is not first and fresh == first
    # by hand from the YAML: buffer sizes in order, the units serving each queue
    assert first.buffers == tuple((n, b.size_bytes) for n, b in loaded.buffers.items())
    for q, count in first.units_per_queue.items():
        assert count == sum(q.name in u.queues for u in loaded.units.values())
    with pytest.raises(TypeError):
        first.units_per_queue[next(iter(first.units_per_queue))] = 9  # shared: immutable
    copied = copy.deepcopy(loaded)  # plain and mutable again: not remembered
    assert copied.isa_resources() == first and copied.isa_resources() is not first


@pytest.mark.parametrize("name", ["neupims", "flightllm-u280", "h100", "mllm-npu-sd8gen3"])
@pytest.mark.parametrize("pim_output_slots", [0, 4])
def test_buffer_plan_built_once_per_slot_count(name, pim_output_slots):
    loaded = targets.load_target(name)
    plan = plan_buffers(loaded, pim_output_slots)
    assert plan_buffers(loaded, pim_output_slots) is plan
    assert _plan(loaded, pim_output_slots) == plan  # what a fresh build gives
    other = plan_buffers(loaded, pim_output_slots + 1)
    assert other is not plan and ("pim_output" in other.slots) == (pim_output_slots + 1 > 0)
    with pytest.raises(TypeError):
        plan.slots["weight"] = plan.slots["output"]
    copied = copy.deepcopy(loaded)
    assert plan_buffers(copied, pim_output_slots) == plan
    assert plan_buffers(copied, pim_output_slots) is not plan_buffers(copied, pim_output_slots)
