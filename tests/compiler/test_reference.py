"""compiler.reference float path against an independent float64 decoder (tests/compiler/ref64.py)
on tiny models of every architecture the builder knows, prefill and decode."""
from dataclasses import replace

import numpy as np
import pytest

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.workload import Workload
from compiler.model import ModelSpec
from compiler.reference import FloatExecutor, KVCache, WeightStore, run_float
from tests.compiler.ref64 import Decoder64

# the brief's tiny llama, spelled out so the test does not depend on the zoo file
TINY_LLAMA = ModelSpec(name="tiny-llama", family="llama", source="test", hidden_size=64,
                       num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16,
                       intermediate_size=128, vocab_size=256, max_position=128)
GEMMA_LIKE = replace(TINY_LLAMA, name="tiny-gemma", family="gemma", embedding_scale=True,
                     activation="gelu_tanh", tie_embeddings=True, num_kv_heads=1)
PHI_LIKE = replace(TINY_LLAMA, name="tiny-phi", family="phi", norm="layernorm",
                   activation="gelu", gated_mlp=False, rotary_fraction=0.5,
                   parallel_block=True, qkv_bias=True, out_bias=True, num_kv_heads=4)
MLA_QLORA = replace(load_model("tiny-deepseek-v2"), name="tiny-ds-qlora",
                    mla=replace(load_model("tiny-deepseek-v2").mla, q_lora_rank=32))

PREFILL = dict(phase="prefill", batch=2, seq=5)
DECODE = dict(phase="decode", batch=2, context=7)
CASES = [
    (TINY_LLAMA, PREFILL), (TINY_LLAMA, DECODE),
    (load_model("tiny-mixtral"), PREFILL), (load_model("tiny-mixtral"), DECODE),
    (load_model("tiny-deepseek-v2"), DECODE), (load_model("tiny-deepseek-v2"), PREFILL),
    (MLA_QLORA, DECODE),
    (load_model("tiny-opt"), PREFILL), (load_model("tiny-opt"), DECODE),
    (GEMMA_LIKE, DECODE), (PHI_LIKE, PREFILL),
]


def token_ids(w: Workload, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(w.batch, w.step_tokens))


@pytest.mark.parametrize("model,phase", CASES,
                         ids=[f"{m.name}-{p['phase']}" for m, p in CASES])
def test_float_logits_match_independent_float64(model, phase):
    w = Workload(**phase)
    graph = build_graph(model, w)
    ids = token_ids(w)
    store, cache = WeightStore(graph, seed=3), KVCache(graph, seed=3)
    got = FloatExecutor(graph, ids, weights=store, cache=cache).run()["lm_head"]
    want = Decoder64(model, store, cache, w.step_context).forward(ids)
    assert got.dtype == np.float32 and got.shape == (w.batch, model.vocab_size)
    # float32 against float64: 1e-4 of the largest logit
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_every_op_has_its_output_shape():
    graph = build_graph(load_model("tiny-deepseek-v2"), Workload(**DECODE))
    values = run_float(graph, token_ids(graph.workload))
    for op in graph.ops():
        assert values[op.name].shape == op.output.shape, op.name
    assert values["L1.topk:experts"].dtype == np.int32


def test_decode_appends_this_steps_kv_to_the_seeded_past():
    graph = build_graph(TINY_LLAMA, Workload(**DECODE))
    ex = FloatExecutor(graph, token_ids(graph.workload))
    values = ex.run()
    past_k, past_v = ex.cache.past("L0.kv_write")
    full_k, full_v = ex.kv_full["L0.kv_write"]
    assert past_k.shape == (2, 2, 7, 16) and full_k.shape == (2, 2, 8, 16)
    np.testing.assert_array_equal(full_k[:, :, :7], past_k)
    # the new position holds this token's roped K and its V, head by head
    np.testing.assert_array_equal(full_k[:, :, 7], values["L0.k_rope"].reshape(2, 2, 16))
    np.testing.assert_array_equal(full_v[:, :, 7], values["L0.v_proj"].reshape(2, 2, 16))


def test_weights_are_seeded_per_op_name():
    full = build_graph(TINY_LLAMA, Workload(**PREFILL))
    one_layer = build_graph(TINY_LLAMA, Workload(**PREFILL, layers=1))
    a, b = WeightStore(full, 0), WeightStore(one_layer, 0)
    np.testing.assert_array_equal(a.weight("L0.q_proj"), b.weight("L0.q_proj"))
    np.testing.assert_array_equal(a.weight("final_norm"), b.weight("final_norm"))
    assert not np.array_equal(a.weight("L0.q_proj"), WeightStore(full, 1).weight("L0.q_proj"))
    assert a.weight("L0.mlp_gate").dtype == np.float32
    assert abs(a.weight("L0.mlp_gate").std() * 8 - 1) < 0.1   # normal / sqrt(K = 64)
    assert abs(a.weight("L0.attn_norm").mean() - 1) < 0.1     # gammas near 1


def test_moe_and_mla_weight_shapes():
    graph = build_graph(load_model("tiny-deepseek-v2"), Workload(**DECODE))
    store = WeightStore(graph)
    assert store.weight("L1.expert_gate").shape == (4, 64, 32)      # (E, K, N)
    assert store.weight("L0.q_absorb").shape == (4, 16, 16)         # (heads, nope, rank)
    assert KVCache(graph).past("L0.kv_write")[0].shape == (2, 1, 7, 24)  # latent + rope key


def test_tied_lm_head_reads_the_embedding():
    graph = build_graph(load_model("tiny-opt"), Workload(**PREFILL))
    store = WeightStore(graph)
    np.testing.assert_array_equal(store.weight("lm_head"), store.weight("embed").T)
    assert store.bias("L0.q_proj").shape == (64,) and store.bias("L0.mlp_down") is not None


def test_bad_token_ids():
    graph = build_graph(TINY_LLAMA, Workload(**PREFILL))
    with pytest.raises(CompilerError, match=r"token_ids has 9 ids; the prefill graph needs "
                                            r"batch x tokens = 10"):
        run_float(graph, np.zeros(9, dtype=int))
    with pytest.raises(CompilerError, match=r"token id 256 is outside the vocabulary \[0, 256\)"):
        run_float(graph, np.full(10, 256))


def test_float_path_is_deterministic():
    graph = build_graph(load_model("tiny-mixtral"), Workload(**DECODE))
    a = run_float(graph, token_ids(graph.workload))
    b = run_float(graph, token_ids(graph.workload))
    assert all(np.array_equal(a[k], b[k]) for k in a)
