"""A matrix op whose output is spilled keeps its accumulator ping-pong (compiler/codegen/
context.py `output_target(staging=...)`): each tile is converted in place in the output slot
it accumulated in and stored from there, so the next tile's product runs in the other slot
while this one is converted and stored.

Found by the invariant campaign (test_monotone, batch): on flightllm-u280, prefill of 100
tokens of a 1-layer 32-wide LLaMA, batch 6 took 193.9 us, more than batches 1 (32.0 us) and 5
(154.2 us) run apart. At batch 6 the attention scores no longer fit on chip; each score tile
took one output slot for its accumulator and the other to stage its STORE, so every tile's
MATMUL waited for the previous tile's REQUANT (4.6 us of the 7.8 us excess)."""
import json

from compiler.buffer_plan import plan_buffers
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from isa import Queue
from targets import load_target

CONFIG = {"hidden_size": 32, "intermediate_size": 32, "max_position_embeddings": 4096,
          "model_type": "llama", "num_attention_heads": 4, "num_hidden_layers": 1,
          "num_key_value_heads": 4, "vocab_size": 128}


def _program(tmp_path, batch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    target = load_target("flightllm-u280")
    compiled = compile_model(load_model(str(path)),
                             Workload(phase="prefill", batch=batch, seq=100, context=0), target)
    return compiled, target


def _op_rows(program, name, queue):
    op = next(o for o in program.metadata["ops"] if o["name"] == name)
    first, count = op["first"][queue.name], op["count"][queue.name]
    return program.streams[queue][first:first + count]


def test_spilled_score_tiles_alternate_their_accumulator_slots(tmp_path):
    compiled, target = _program(tmp_path, 6)
    assert compiled.graph.op("L0.attn_score").attr("home")[0] == "dram"  # spilled at batch 6
    slots = {r.offset for r in plan_buffers(target).slots["output"]}
    matmuls = _op_rows(compiled.program, "L0.attn_score", Queue.MM)
    convs = _op_rows(compiled.program, "L0.attn_score", Queue.VEC)
    stores = _op_rows(compiled.program, "L0.attn_score", Queue.ST)
    assert len(matmuls) == len(convs) == len(stores) == 12  # 6 sequences x 2 query tiles
    out = [mm["out_addr"] for mm in matmuls]
    assert set(out) == slots  # before: every tile accumulated in the same slot
    assert all(a != b for a, b in zip(out, out[1:]))  # consecutive tiles in turn
    for mm, conv, st in zip(matmuls, convs, stores):  # converted in place, stored from there
        assert conv["src0_addr"] == conv["dst_addr"] == st["sram_addr"] == mm["out_addr"]


def test_resident_scores_are_not_staged(tmp_path):
    compiled, _ = _program(tmp_path, 5)
    assert compiled.graph.op("L0.attn_score").attr("home")[0] == "onchip"
    assert len(_op_rows(compiled.program, "L0.attn_score", Queue.ST)) == 0


def test_on_a_unit_that_also_converts_the_tile_is_staged_in_the_other_slot():
    # v100s: one SM pool serves MM and VEC, so a tile's conversion and the next product take
    # turns on it anyway; converting in place would let the next product take the SMs first
    # and hold the slot until the store (llama2-7b prefill of 128 tokens, one layer: 1.126 ms
    # instead of 1.034 ms). There the store is staged in the other output slot, as before.
    target = load_target("v100s")
    compiled = compile_model(load_model("tiny-llama"),
                             Workload(phase="prefill", batch=64, seq=128, quant="w8a8",
                                      layers=1), target)
    assert compiled.graph.op("L0.q_proj").attr("home")[0] == "dram"
    matmuls = _op_rows(compiled.program, "L0.q_proj", Queue.MM)
    convs = _op_rows(compiled.program, "L0.q_proj", Queue.VEC)
    stores = _op_rows(compiled.program, "L0.q_proj", Queue.ST)
    assert len(matmuls) == len(convs) == len(stores) > 1
    for mm, conv, st in zip(matmuls, convs, stores):
        assert conv["src0_addr"] == mm["out_addr"] != conv["dst_addr"] == st["sram_addr"]
