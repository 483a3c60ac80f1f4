"""Tiling never exceeds a buffer: a property test over random shapes, dtypes and targets."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from compiler.buffer_plan import plan_buffers
from compiler.errors import CompilerError
from compiler.ir.ops import Op, OpKind
from compiler.ir.tensor import TensorSpec
from compiler.passes.tile import tile_matrix

BITS = {"int4": 4, "int8": 8, "fp16": 16}
TARGETS = {name: targets.load_target(name) for name in targets.preset_names()}


def matmul(m, k, n, wdtype, adtype, sparsity=None):
    attrs = dict(rows=m, role="x", queue="MM", opcode="MATMUL", compute_dtype=adtype)
    if sparsity:
        attrs["sparsity"] = sparsity
    return Op("x", OpKind.MATMUL, (TensorSpec((m, k), adtype),), TensorSpec((m, n), adtype),
              weight=TensorSpec((k, n), wdtype), attrs=attrs)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(TARGETS)), st.integers(1, 4096), st.integers(1, 20000),
       st.integers(1, 40000), st.sampled_from(["int4", "int8", "fp16"]),
       st.sampled_from(["int8", "fp16"]), st.floats(0.05, 1.0))
def test_matmul_tiles_fit_their_slots(name, m, k, n, wdtype, adtype, shrink):
    # shrink every buffer of the target to explore small configurations too
    target = TARGETS[name]
    overrides = [f"buffers.{b}.size_bytes={max(4096, int(buf.size_bytes * shrink))}"
                 for b, buf in target.buffers.items()]
    target = targets.load_target(name, overrides)
    plan = plan_buffers(target)
    op = matmul(m, k, n, wdtype, adtype)
    try:
        t = tile_matrix(op, plan)
    except CompilerError as err:
        assert "fits the buffers" in str(err)
        return
    assert 1 <= t["tm"] <= m and 1 <= t["tn"] <= n and 1 <= t["tk"] <= k
    assert max(t["tm"], t["tn"], t["tk"]) <= 65535
    w_bytes = math.ceil(t["tk"] * t["tn"] * BITS[wdtype] / 8)
    a_bytes = math.ceil(t["tm"] * t["tk"] * (8 if adtype == "int8" else 16) / 8)
    o_bytes = t["tm"] * t["tn"] * 4
    assert w_bytes <= plan.slots["weight"][0].size_bytes
    assert a_bytes <= plan.slots["activation"][0].size_bytes
    assert o_bytes <= plan.slots["output"][0].size_bytes


def test_slots_are_disjoint_and_inside_their_buffers():
    for target in TARGETS.values():
        plan = plan_buffers(target)
        regions = {(r.buffer_id, r.offset, r.size_bytes) for pair in plan.slots.values()
                   for r in pair} | {(plan.resident.buffer_id, plan.resident.offset,
                                      plan.resident.size_bytes)}
        sizes = [b.size_bytes for b in target.buffers.values()]
        by_buffer = {}
        for buf, off, size in regions:
            assert off + size <= sizes[buf]
            by_buffer.setdefault(buf, []).append((off, off + size))
        for spans in by_buffer.values():
            spans.sort()
            for (a0, a1), (b0, _) in zip(spans, spans[1:]):
                assert a1 <= b0


def test_u280_decode_gemv_tile_by_hand():
    # a_buf 8 MiB holds weights only: two 4 MiB slots. q_proj 4096 x 4096 int4: K whole,
    # tn = 4 MiB / (4096 x 0.5 B) = 2048 columns.
    plan = plan_buffers(TARGETS["flightllm-u280"])
    assert plan.slots["weight"][0].size_bytes == 4 * 2**20
    t = tile_matrix(matmul(1, 4096, 4096, "int4", "int8"), plan)
    assert (t["tm"], t["tk"], t["tn"]) == (1, 4096, 2048)


def test_nm_sparse_weights_allow_wider_tiles():
    plan = plan_buffers(TARGETS["flightllm-u280"])
    dense = tile_matrix(matmul(1, 4096, 16384, "int8", "int8"), plan)
    sparse = tile_matrix(matmul(1, 4096, 16384, "int8", "int8", sparsity=(4, 16)), plan)
    assert dense["tn"] == 1024 and sparse["tn"] == 4096  # 4 MiB / (4096 x 1 B x 4/16)


def test_impossible_tile_is_refused_with_the_buffer_name():
    target = targets.load_target("flightllm-u280", ["buffers.a_buf.size_bytes=128"])
    with pytest.raises(CompilerError, match=r"x: no tile of .* fits the buffers .*a_buf"):
        tile_matrix(matmul(1, 4096, 64, "int8", "int8"), plan_buffers(target))
