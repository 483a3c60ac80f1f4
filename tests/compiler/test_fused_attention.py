"""Fused (FlashAttention-style) attention on GPU units: instruction counts, MACs and traffic
against hand counts of the causal block schedule; off / integer / sparse stay unfused."""
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from isa import Queue

SMALL_BLOCKS = ["units.sm.attention_block_query_tokens=16", "units.sm.attention_block_key_tokens=16"]
# tiny-llama: 4 query heads, 2 KV heads, head_dim 16 -> 2 query rows per token and group
HPG, HEAD_DIM, GROUPS = 2, 16, 2


def compiled(overrides=(), **workload):
    target = targets.load_target("h100", list(overrides))
    return compile_model(load_model("tiny-llama"), Workload(layers=1, **workload), target)


def op_rows(program, name: str) -> dict:
    """Per queue, the instructions op `name` emitted (program metadata first / count)."""
    meta = next(o for o in program.metadata["ops"] if o["name"] == name)
    return {q: program.streams[Queue[q]][meta["first"][q]:meta["first"][q] + n]
            for q, n in meta["count"].items() if n}


def macs(instrs) -> int:
    return sum(i["m"] * i["n"] * i["k"] * i["count"] for i in instrs)


def test_prefill_skips_key_blocks_above_the_diagonal():
    # 64 tokens in query blocks of 16: block i (0..3) sees keys up to its last token, i.e.
    # i + 1 key blocks of 16 -> 1 + 2 + 3 + 4 = 10 key blocks, each LOAD K, S, softmax,
    # LOAD V, P V; one output conversion per query block
    rows = op_rows(compiled(SMALL_BLOCKS, phase="prefill", seq=64).program, "L0.attn_score")
    assert len(rows["MM"]) == 2 * 10
    assert len(rows["VEC"]) == 10 + 4
    assert [i.opcode.name for i in rows["VEC"]].count("SOFTMAX") == 10
    assert sum(i["rows"] for i in rows["LD"] if i["row_bytes"] == 16 * HEAD_DIM * 2) >= 2 * 10
    # every MATMUL: 16 tokens x 2 heads per group = 32 rows, 16 keys, head_dim 16, both groups
    assert macs(rows["MM"]) == 2 * 10 * (16 * HPG) * 16 * HEAD_DIM * GROUPS


def test_softmax_and_context_emit_nothing_and_scores_have_no_home():
    c = compiled(SMALL_BLOCKS, phase="prefill", seq=64)
    assert op_rows(c.program, "L0.softmax") == {}
    assert op_rows(c.program, "L0.attn_context") == {}
    assert c.graph.op("L0.attn_score").attr("home")[0] == "fused"
    assert c.graph.op("L0.softmax").attr("home")[0] == "fused"
    assert c.graph.op("L0.attn_context").attr("home")[0] in ("onchip", "dram")


def test_switched_off_the_three_ops_are_lowered_as_before():
    c = compiled([*SMALL_BLOCKS, "units.sm.fused_attention=false"], phase="prefill", seq=64)
    score, context = op_rows(c.program, "L0.attn_score"), op_rows(c.program, "L0.attn_context")
    assert op_rows(c.program, "L0.softmax")["VEC"]
    # unfused: the whole 64 x 64 score square per group, both products
    full = 64 * HPG * 64 * HEAD_DIM * GROUPS
    assert macs(score["MM"]) == full and macs(context["MM"]) == full


def test_a_short_last_query_block_sees_only_its_keys():
    # 40 tokens: query blocks of 16, 16 and 8 tokens end at positions 15, 31 and 39, so their
    # score products span keys [16], [16, 16] and [16, 16, 8]
    rows = op_rows(compiled(SMALL_BLOCKS, phase="prefill", seq=40).program, "L0.attn_score")
    scores = [i for i in rows["MM"] if i["wgt_transposed"]]
    assert [i["n"] for i in scores] == [16, 16, 16, 16, 16, 8]
    assert [i["m"] for i in scores] == [32, 32, 32, 16, 16, 16]


def test_decode_attention_stays_three_ops():
    c = compiled(SMALL_BLOCKS, phase="decode", batch=2, context=40, contexts=(5, 40))
    assert not c.graph.op("L0.attn_score").attr("fused_attention")
    assert op_rows(c.program, "L0.softmax")


@pytest.mark.parametrize("workload", [dict(phase="prefill", seq=64, quant="w8a8")])
def test_integer_attention_stays_unfused(workload):
    c = compiled(SMALL_BLOCKS, **workload)
    assert not c.graph.op("L0.attn_score").attr("fused_attention")
    assert op_rows(c.program, "L0.softmax")


def test_fused_prefill_moves_less_and_runs_faster_on_h100():
    # LLaMA2-7B at 1,024 tokens: 32 heads x 1,024^2 fp16 scores (64 MiB) outgrow the on-chip
    # share and go off chip unfused; fused, neither scores nor probabilities have a home.
    # The off-chip activation pool is reused by liveness: unfused, the scores and P are live at
    # once (the softmax reads one and writes the other), so the pool holds at least both;
    # fused, its peak is below them.
    from hwsim.simulate import simulate_program
    off_set = ["units.sm.fused_attention=false"]
    runs = {}
    for name, sets in (("on", []), ("off", off_set)):
        target = targets.load_target("h100", sets)
        c = compile_model(load_model("llama2-7b"), Workload(layers=1, phase="prefill",
                                                            seq=1024), target)
        runs[name] = (c.graph.meta["activation_bytes"],
                      simulate_program(c.program, target, 1024))
    scores_and_p = 2 * 32 * 1024 * 1024 * 2
    assert runs["off"][0] >= scores_and_p > runs["on"][0]
    assert runs["on"][1]["seconds"] < runs["off"][1]["seconds"]
