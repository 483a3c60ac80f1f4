"""allocate: the KV cache regions hold every cached token plus this step's, and on-chip tensors
never share bytes while both are live in the order code generation emits them (issue 18,
finding 7: phi-2 / gpt_neox parallel blocks lost their V rows to the MLP input)."""
from __future__ import annotations

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.passes.schedule import scheduled
from compiler.pipeline import compile_model, lower
from tests.compiler.onchip_hazards import races

PAGE = 4096


def _pages(size: int) -> int:
    return -(-size // PAGE) * PAGE


@pytest.mark.parametrize("phase, context, step", [("decode", 100, 1), ("prefill", 0, 7)])
def test_kv_regions_hold_the_cached_and_the_new_tokens(phase, context, step):
    # tiny-llama: 2 layers, 2 KV heads of 16 dims; w8a8 keeps the cache in int8 (16 B a row)
    g = lower(load_model("tiny-llama"), Workload(phase=phase, batch=3, seq=step, context=context,
                                                 quant="w8a8"),
              targets.load_target("flightllm-u280"))
    tokens = context + step
    region = 3 * 2 * tokens * 16
    assert g.meta["kv_bytes"] == 2 * 2 * _pages(region)
    for layer in range(2):
        kv = g.op(f"L{layer}.kv_write")
        assert kv.attr("max_len") == tokens
        assert kv.attr("row_bytes") == 16
        assert kv.attr("v_addr") - kv.attr("k_addr") == _pages(region)


def _live_intervals(graph):
    """(first, last) schedule position of every on-chip tensor: written by its producer, read
    up to its last consumer (both inclusive: a reader's own output must not land on its input)."""
    order = {op.name: i for i, op in enumerate(scheduled(graph))}
    out = {}
    for op in graph.ops():
        home = op.attr("home")
        if home and home[0] == "onchip":
            last = max((order[s] for s in graph.nx.successors(op.name)), default=order[op.name])
            size = -(-op.output.nbytes // 64) * 64
            out[op.name] = (order[op.name], last, home[1], home[2], home[2] + size)
    return out


CASES = [("phi-2", "flightllm-u280", "decode"), ("phi-2", "flightllm-u280", "prefill"),
         ("llama2-7b", "flightllm-u280", "decode"), ("opt-6.7b", "flightllm-vhk158", "decode"),
         ("tiny-mixtral", "flightllm-u280", "decode"), ("llama2-7b", "neupims", "decode"),
         ("qwen1.5-1.8b", "mllm-npu-sd8gen3", "prefill")]


@pytest.mark.parametrize("model, target, phase", CASES)
def test_onchip_tensors_live_at_once_never_share_bytes(model, target, phase):
    g = lower(load_model(model), Workload(phase=phase, batch=2, seq=8, context=16, layers=2),
              targets.load_target(target))
    live = sorted(_live_intervals(g).items())
    assert len(live) > 5
    for i, (a, (a0, a1, abuf, alo, ahi)) in enumerate(live):
        for b, (b0, b1, bbuf, blo, bhi) in live[i + 1:]:
            if abuf == bbuf and alo < bhi and blo < ahi:
                assert a1 < b0 or b1 < a0, f"{a} and {b} overlap on chip while both live"


@pytest.mark.parametrize("model, target, phase", CASES[:4])
def test_compiled_programs_order_every_onchip_reuse_by_tokens(model, target, phase):
    t = targets.load_target(target)
    program = compile_model(load_model(model), Workload(phase=phase, batch=1, seq=4, context=8,
                                                        layers=1), t).program
    buffers = [size for _, size in t.isa_resources().buffers]
    assert races(program, buffers) == []


def test_the_race_finder_sees_a_missing_token():
    """Drop one token pair from a correct program: the finder reports the now-unordered use."""
    from dataclasses import replace as dc_replace

    from isa import Program, Queue
    t = targets.load_target("flightllm-u280")
    program = compile_model(load_model("tiny-llama"), Workload(phase="decode", layers=1),
                            t).program
    streams = {q: list(s) for q, s in program.streams.items()}
    # the first VEC -> MV token: the GEMV that consumes the norm's output no longer waits
    vec = next(i for i, x in enumerate(streams[Queue.VEC]) if Queue.MV in x["release"])
    mv = next(i for i, x in enumerate(streams[Queue.MV]) if Queue.VEC in x["wait"])
    streams[Queue.VEC][vec] = streams[Queue.VEC][vec].replace(
        release=streams[Queue.VEC][vec]["release"] - {Queue.MV})
    streams[Queue.MV][mv] = streams[Queue.MV][mv].replace(
        wait=streams[Queue.MV][mv]["wait"] - {Queue.VEC})
    broken = dc_replace(program, streams=streams)
    assert isinstance(broken, Program)
    found = races(broken, [size for _, size in t.isa_resources().buffers])
    # the GEMV may now run before the norm writes its input: the norm's write races its read
    assert {(q, other) for _, q, _, other, *_ in found} & {("MV", "VEC"), ("VEC", "MV")}
    assert races(program, [size for _, size in t.isa_resources().buffers]) == []
