"""`inspect` figures (compiler.analysis) against closed formulas and published numbers.

Every expected value is written out here from the models' public configs (hidden size H,
layers L, vocabulary V, FFN width I, heads) or from a published figure; none is the code's output
pasted back. PAPERS.md B1, B3 and B17 are checked through the same figures.
"""
from dataclasses import replace

import pytest

from compiler.analysis import inspect_model, parameter_counts
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.model import MlaSpec

GiB = 2 ** 30
DECODE = Workload(phase="decode", batch=1, seq=16, context=128)


def report(name_or_spec, **workload):
    spec = load_model(name_or_spec) if isinstance(name_or_spec, str) else name_or_spec
    return inspect_model(spec, replace(DECODE, **workload))


# ------------------------------------------------------------------ LLaMA2-7B
# V=32000, H=4096, L=32, I=11008, 32 heads x 128, MHA, untied embeddings, no biases.
V, H, L, I = 32000, 4096, 32, 11008
LLAMA2_7B_PARAMS = (V * H * 2                          # embed_tokens + lm_head
                    + L * (4 * H * H                   # q, k, v, o
                           + 3 * H * I                 # gate, up, down
                           + 2 * H)                    # two RMSNorm weights
                    + H)                               # final norm


def test_llama2_7b_parameters_closed_formula_and_published():
    params = report("llama2-7b")["parameters"]
    assert LLAMA2_7B_PARAMS == 6_738_415_616  # the arithmetic above, done by hand
    assert params["total"] == LLAMA2_7B_PARAMS
    assert params["total"] == pytest.approx(6.74e9, rel=0.005)  # published "7B" = 6.74B
    assert params["active_per_token"] == params["total"]  # dense: every weight is used


def test_llama2_7b_kv_bytes_per_token():
    # K and V, 32 layers, 4096 values each, 2 bytes (fp16)
    assert report("llama2-7b")["kv_cache_bytes_per_token"] == 2 * 32 * 4096 * 2 == 524_288


def test_parameter_counts_on_a_graph_matches_inspect():
    graph = build_graph(load_model("llama2-7b"), DECODE)
    assert parameter_counts(graph) == {"total": LLAMA2_7B_PARAMS,
                                       "active_per_token": LLAMA2_7B_PARAMS}


# ------------------------------------------------------------------ LLaMA3-8B (GQA)

def test_llama3_8b_gqa_cache_is_a_quarter_of_mha():
    spec = load_model("llama3-8b")
    assert (spec.num_heads, spec.num_kv_heads, spec.head_dim) == (32, 8, 128)
    gqa = report(spec)["kv_cache_bytes_per_token"]
    mha = report(replace(spec, num_kv_heads=spec.num_heads))["kv_cache_bytes_per_token"]
    assert gqa == 2 * 32 * 8 * 128 * 2 == 131_072       # K+V x layers x kv heads x dim x fp16
    assert mha == 2 * 32 * 32 * 128 * 2 == 524_288
    assert mha == 4 * gqa
    assert report(spec)["attention"] == "gqa"


def test_b3_llama3_8b_kv_at_one_million_tokens_is_128_gib():
    # PAPERS.md B3 (HeadInfer): 128 KiB/token x 2**20 tokens = 128 GiB exactly
    per_token = report("llama3-8b")["kv_cache_bytes_per_token"]
    assert per_token * 2 ** 20 == 128 * GiB


# ------------------------------------------------------------------ DeepSeek-V2-Lite (MLA)

def test_deepseek_v2_lite_mla_cache():
    spec = load_model("deepseek-v2-lite")
    assert (spec.mla.kv_lora_rank, spec.mla.qk_rope_head_dim, spec.num_layers) == (512, 64, 27)
    fp16 = report(spec)
    assert fp16["attention"] == "mla"
    assert fp16["kv_cache_bytes_per_token"] == (512 + 64) * 27 * 2 == 31_104
    int8 = report(spec, kv_bits=8)
    assert int8["kv_cache_bytes_per_token"] == (512 + 64) * 27 * 1 == 31_104 // 2


# ------------------------------------------------------------------ Mixtral-8x7B (MoE)
# V=32000, H=4096, L=32, expert FFN I=14336, 8 experts, top-2, 32 heads, 8 KV heads x 128.

def test_mixtral_8x7b_total_and_active_parameters():
    v, h, n_layers, inter, experts, top_k, kv_width = 32000, 4096, 32, 14336, 8, 2, 8 * 128
    attention = 2 * h * h + 2 * h * kv_width             # q, o (H x H); k, v (H x 1024)
    router = h * experts
    norms = 2 * h
    total = 2 * v * h + n_layers * (attention + router + experts * 3 * h * inter + norms) + h
    active = 2 * v * h + n_layers * (attention + router + top_k * 3 * h * inter + norms) + h
    params = report("mixtral-8x7b")["parameters"]
    assert params["total"] == total
    assert params["active_per_token"] == active
    assert params["total"] == pytest.approx(46.7e9, rel=0.01)           # Mistral AI: 46.7B
    assert params["active_per_token"] == pytest.approx(12.9e9, rel=0.01)  # 12.9B active
    assert params["active_per_token"] < params["total"]


# ------------------------------------------------------------------ PAPERS.md B1 (MHA2MLA)
# MHA of Llama2-7B: 2 x 32 x 128 = 8192 values/token/layer; 92.1875 % less leaves 640.

def _llama2_7b_mla(rank: int, rope: int):
    spec = load_model("llama2-7b")
    return replace(spec, mla=MlaSpec(kv_lora_rank=rank, qk_rope_head_dim=rope,
                                     qk_nope_head_dim=128 - rope, v_head_dim=128))


def test_b1_mla_llama2_7b_at_640_values_is_92_1875_percent_smaller():
    r = report(_llama2_7b_mla(576, 64))                 # 576 + 64 = 640 values per layer
    assert r["kv_cache_bytes_per_token"] == 640 * 32 * 2
    assert r["kv_cache_fraction_of_mha_fp16"] == 1 - 0.921875  # both dyadic: exact
    assert 1 - 640 / 8192 == 0.921875


def test_b1_mla_2560_values_at_4_bit_kv_is_also_92_1875_percent_smaller():
    r = report(_llama2_7b_mla(2496, 64), kv_bits=4)     # 2496 + 64 = 2560 values, 4 bits each
    assert r["kv_cache_bytes_per_token"] == 2560 * 32 * 4 // 8
    assert r["kv_cache_fraction_of_mha_fp16"] == 1 - 0.921875


def test_mha_fraction_of_a_plain_mha_model_is_one():
    assert report("llama2-7b")["kv_cache_fraction_of_mha_fp16"] == 1.0


# ------------------------------------------------------------------ PAPERS.md B17 (eDKM)

def test_b17_llama_7b_weight_footprints():
    total = report("llama2-7b")["parameters"]["total"]
    # 6.74e9 x 2 B = 12.55 GiB (fp16); x 3/8 B = 2.53 GB decimal at 3 bits per weight
    assert total * 2 / GiB == pytest.approx(12.55, abs=0.005)
    assert total * 3 / 8 / 1e9 == pytest.approx(2.53, abs=0.005)


# ------------------------------------------------------------------ decode FLOPs

@pytest.mark.parametrize("context", [0, 128, 1000])
def test_llama2_7b_decode_flops_per_token(context):
    graph = build_graph(load_model("llama2-7b"), replace(DECODE, context=context))
    ops = graph.ops()
    norm_params = (2 * L + 1) * H
    matmul_params = LLAMA2_7B_PARAMS - V * H - norm_params  # lm_head in, embedding and norms out
    matmul_flops = sum(op.flops for op in ops if op.kind == OpKind.MATMUL)
    assert matmul_flops == 2 * matmul_params
    # QK^T and PV over context + 1 positions: 2 ops x 2 FLOPs x heads x head_dim = 4 x H per pos
    attention = sum(op.flops for op in ops
                    if op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT))
    assert attention == 2 * 2 * L * H * (context + 1)
    # element-wise work by docs/compiler.md's per-element costs: softmax 5 x heads x (C+1),
    # RoPE 3 x (q + k), SiLU 4 x I, gate*up 1 x I, two residual adds 1 x H; RMSNorm 4 x H
    elementwise = L * (5 * 32 * (context + 1) + 3 * 2 * H + 4 * I + I + 2 * H) \
        + 4 * H * (2 * L + 1)
    r = inspect_model(load_model("llama2-7b"), replace(DECODE, context=context))
    assert r["decode"]["tokens"] == 1
    assert r["decode"]["flops_per_token"] == 2 * matmul_params + attention + elementwise
    # the familiar approximation: ~2 x parameters per token at short context
    assert r["decode"]["flops_per_token"] == pytest.approx(2 * LLAMA2_7B_PARAMS, rel=0.05)
