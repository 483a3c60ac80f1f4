"""partition, fuse and allocate on real zoo models and presets; passes never mutate input."""
import pytest

import targets
from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.passes import fuse, partition, quantize, tile
from compiler.pipeline import lower, resolve_workload


def graph_for(model, target, **workload):
    t = targets.load_target(target) if isinstance(target, str) else target
    w = resolve_workload(Workload(layers=1, **workload), t)
    return build_graph(load_model(model), w), t


def placed(model, target, **workload):
    g, t = graph_for(model, target, **workload)
    return partition.run(quantize.run(g, t), t)


def test_decode_gemms_become_gemvs_and_prefill_uses_the_matrix_unit():
    decode = placed("llama2-7b", "flightllm-u280", phase="decode")
    assert decode.op("L0.q_proj").attr("queue") == "MV"
    assert decode.op("L0.q_proj").attr("compute_dtype") == "int8"
    prefill = placed("llama2-7b", "flightllm-u280", phase="prefill", seq=64)
    assert prefill.op("L0.q_proj").attr("queue") == "MM"
    assert prefill.op("L0.softmax").attr("opcode") == "SOFTMAX"
    assert prefill.op("embed").attr("queue") == "LD"
    assert prefill.op("L0.kv_write").attr("queue") == "ST"


def test_neupims_decode_attention_goes_to_pim_unless_switched_off():
    g = placed("llama2-7b", "neupims", phase="decode", batch=64)
    score = g.op("L0.attn_score")
    assert (score.attr("queue"), score.attr("opcode")) == ("MV", "PIM_GEMV")
    assert score.attr("unit") == 1  # MV units: [vector, pim]
    assert g.op("L0.q_proj").attr("queue") == "MM"  # 64 rows: a GEMM on the systolic arrays
    off = targets.load_target("neupims", ["mechanisms.pim_attention=false"])
    g = placed("llama2-7b", off, phase="decode", batch=64)
    score = g.op("L0.attn_score")  # NPU-only: the attention GEMV runs on the vector units
    assert (score.attr("opcode"), score.attr("unit")) == ("GEMV", 0)


def test_a_target_without_a_unit_for_the_dtype_is_refused():
    with pytest.raises(CompilerError, match="flightllm-u280 has no unit computing fp16 matrix"):
        placed("llama2-7b", "flightllm-u280", phase="decode", quant="fp16")


def test_fuse_folds_the_gate_activation_into_its_matmul():
    g, t = graph_for("llama2-7b", "a100", phase="decode")
    fused = fuse.run(g, t)
    assert "L0.mlp_act" in g.nx and "L0.mlp_act" not in fused.nx
    assert fused.op("L0.mlp_gate").attr("epilogue") == "SILU"
    assert fused.sources("L0.mlp_mul") == ["L0.mlp_gate", "L0.mlp_up"]
    assert len(fused) == len(g) - 1
    assert "epilogue" not in g.op("L0.mlp_gate").attrs  # the input graph is untouched


def test_passes_do_not_mutate_their_input():
    g, t = graph_for("llama2-7b", "flightllm-u280", phase="decode")
    before = [(op.name, op.inputs, op.output, op.weight, dict(op.attrs)) for op in g.ops()]
    for step in (quantize, fuse, partition):
        step.run(g, t)
    assert [(op.name, op.inputs, op.output, op.weight, dict(op.attrs)) for op in g.ops()] == before


def test_allocate_lays_weights_out_in_order_and_checks_capacity():
    g = lower(load_model("llama2-7b"), Workload(phase="decode", quant="w4a8"),
              targets.load_target("flightllm-u280"))
    # matrix weights int4, the embedding table and 65 norm vectors stay fp16; the integer
    # schemes keep the KV cache in int8: 32 layers x (K, V) x 129 tokens x 4096 x 1 B
    embed, norms = 32000 * 4096, 65 * 4096
    expected = (6738415616 - embed - norms) / 2 + (embed + norms) * 2
    assert g.meta["weight_bytes"] == pytest.approx(expected, rel=1e-3)
    # exact: one token short (128 positions) is 0.78 % less; each region is whole 4 KiB pages
    assert g.meta["kv_bytes"] == 32 * 2 * 129 * 4096 * 1
    q, k = g.op("L0.q_proj"), g.op("L0.k_proj")
    assert k.attr("weight_addr") >= q.attr("weight_addr") + 4096 * 4096 // 2
    with pytest.raises(CompilerError, match=r"^llama2-7b does not fit flightllm-u280: it needs "
                                            r"1[0-9]\.\d\d GB .* but hbm holds 8\.59 GB$"):
        lower(load_model("llama2-7b"), Workload(phase="decode", quant="w8a8", batch=1,
                                                context=16000), targets.load_target(
                                                    "flightllm-u280", ["units.mpe.cores=3"]))


def test_decode_activations_stay_on_chip_unless_the_mechanism_is_off():
    on = lower(load_model("llama2-7b"), Workload(phase="decode", layers=1),
               targets.load_target("flightllm-u280"))
    assert on.op("L0.q_proj").attr("home")[0] == "onchip"
    assert on.op("lm_head").attr("home")[0] == "dram"
    off = lower(load_model("llama2-7b"), Workload(phase="decode", layers=1),
                targets.load_target("flightllm-u280", ["mechanisms.always_on_chip_decode=false"]))
    assert all(op.attr("home")[0] == "dram" for op in off.ops() if op.attr("home"))


def test_tile_annotates_every_matrix_and_vector_op():
    g, t = graph_for("llama2-7b", "flightllm-u280", phase="decode")
    g = tile.run(partition.run(quantize.run(g, t), t), t)
    for op in g.ops():
        if op.kind in (OpKind.MATMUL, OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT) or \
                op.attr("queue") == "VEC":
            assert op.attr("tiles"), op.name


def test_pipeline_lists_the_passes_in_order():
    from compiler.pipeline import PASSES
    assert [p.__name__.rsplit(".", 1)[1] for p in PASSES] == \
        ["quantize", "sparsify", "fuse", "partition", "fuse_attention", "tile", "schedule",
         "allocate"]


def test_schedule_is_a_topological_order_by_level():
    from compiler.passes import schedule
    g, t = graph_for("llama2-7b", "a100", phase="decode")
    s = schedule.run(g, t)
    position = {op.name: op.attr("schedule_index") for op in s.ops()}
    assert sorted(position.values()) == list(range(len(g)))
    for op in s.ops():
        assert all(position[src] < position[op.name] for src in s.sources(op.name))
    # q, k and v projections read the same norm: they are scheduled back to back
    assert {position["L0.q_proj"], position["L0.k_proj"], position["L0.v_proj"]} == \
        {position["L0.attn_norm"] + i for i in (1, 2, 3)}
