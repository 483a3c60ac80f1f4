"""Tiny LLaMA-style test graphs (GQA, RoPE, SwiGLU), written node for node as two exporters
write them.

plain: `optimum-cli export onnx --task text-generation-with-past` (optimum 1.16, torch.onnx
  TorchScript exporter, opset 17) of transformers 4.36 LlamaForCausalLM: LlamaRMSNorm traced as
  Cast / Pow / ReduceMean / Add / Sqrt / Div / Mul / Cast / Mul; q/k/v/o and MLP as MatMul by
  transposed weights; view + transpose as Reshape (shape from Shape / Gather / Unsqueeze /
  Concat) + Transpose; RoPE as Slice + Gather(position_ids) of cos_cached / sin_cached with
  rotate_half as Slice / Neg / Concat; past concat; repeat_kv as Unsqueeze / Expand / Reshape;
  scores MatMul, Div by sqrt(head_dim), causal-mask Add, Softmax, MatMul; SiLU as Sigmoid + Mul.
  Source: transformers v4.36.0 src/transformers/models/llama/modeling_llama.py
  (LlamaRMSNorm, LlamaRotaryEmbedding, rotate_half, apply_rotary_pos_emb, repeat_kv,
  LlamaAttention.forward, LlamaMLP) and optimum v1.16 exporters/onnx/model_configs.py
  (LlamaOnnxConfig: inputs input_ids, attention_mask, position_ids, past_key_values.*).
  transformers="4.45": the same export of transformers 4.45 (RoPE angles from inv_freq at run
  time, attention through the SDPA symbolic); see llama_plain.

genai: onnxruntime-genai 0.4 model builder (src/python/py/models/builder.py, Model.make_layer /
  make_layernorm / make_attention / make_rotary_embedding / make_group_query_attention /
  make_mlp; -p fp32 -e cpu, and -p int4 for MatMulNBits): SimplifiedLayerNormalization on the
  embeddings, SkipSimplifiedLayerNormalization for every later norm (its output 3 is the
  residual sum), MatMul (or MatMulNBits) projections, RotaryEmbedding on q and k,
  GroupQueryAttention with seqlens_k / total_sequence_length from the attention mask, SiLU as
  Sigmoid + Mul.
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from tests.compiler.onnx_build import (INT64_MAX, Onnx, causal_mask, decoder_inputs,
                                       decoder_outputs, quantize_nbits, rope_tables)

MS = "com.microsoft"


def _rmsnorm(b: Onnx, x: str, gamma: np.ndarray, eps: float, name: str) -> str:
    hs = b.op("Cast", [x], to=TensorProto.FLOAT)
    var = b.op("ReduceMean", [b.op("Pow", [hs, b.const(2.0, np.float32)])], axes=[-1],
               keepdims=1)
    root = b.op("Sqrt", [b.op("Add", [var, b.const(eps, np.float32)])])
    hs = b.op("Mul", [hs, b.op("Div", [b.const(1.0, np.float32), root])])
    return b.op("Mul", [b.init(f"{name}.weight", gamma), b.op("Cast", [hs], to=TensorProto.FLOAT)])


def _rotate(b: Onnx, x: str, cos: str, sin: str, half: int) -> str:
    x1 = b.op("Slice", [x, b.const([0]), b.const([half]), b.const([3])])
    x2 = b.op("Slice", [x, b.const([half]), b.const([INT64_MAX]), b.const([3])])
    rotated = b.op("Concat", [b.op("Neg", [x2]), x1], axis=-1)
    return b.op("Add", [b.op("Mul", [x, cos]), b.op("Mul", [rotated, sin])])


def _heads(b: Onnx, x: str, src: str, heads: int, head_dim: int) -> str:
    """view(bsz, q_len, heads, head_dim).transpose(1, 2) as traced."""
    shape = b.op("Shape", [src])
    dims = [b.op("Unsqueeze", [b.op("Gather", [shape, b.const(i)], axis=0), b.const([0])])
            for i in (0, 1)]
    target = b.op("Concat", dims + [b.const([heads]), b.const([head_dim])], axis=0)
    return b.op("Transpose", [b.op("Reshape", [x, target])], perm=[0, 2, 1, 3])


def _rope_from_inv_freq(b: Onnx, theta: float, hd: int) -> tuple[str, str]:
    """transformers >= 4.38 LlamaRotaryEmbedding.forward as traced: inv_freq[None, :, None]
    expanded to the batch @ position_ids[:, None, :], transposed, cat(freqs, freqs), cos / sin
    times attention_scaling (1.0), unsqueezed for the heads."""
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.int64).astype(np.float32) / hd)
    inv = b.init("model.rotary_emb.inv_freq", inv.astype(np.float32))
    batch = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", ["position_ids"]), b.const(0)],
                                    axis=0), b.const([0])])
    inv = b.op("Expand", [b.op("Cast", [b.op("Unsqueeze", [inv, b.const([0, 2])])],
                               to=TensorProto.FLOAT),
                          # expand(B, -1, 1): the exporter turns -1 into 1 (Expand broadcasts)
                          b.op("Concat", [batch, b.const([1, 1])], axis=0)])
    pos = b.op("Cast", [b.op("Unsqueeze", ["position_ids", b.const([1])])], to=TensorProto.FLOAT)
    freqs = b.op("Transpose", [b.op("MatMul", [inv, pos])], perm=[0, 2, 1])
    emb = b.op("Concat", [freqs, freqs], axis=-1)
    one = b.const(1.0, np.float32)
    return tuple(b.op("Unsqueeze", [b.op("Mul", [b.op(fn, [emb]), one]), b.const([1])])
                 for fn in ("Cos", "Sin"))


def _rope_from_tables(b: Onnx, m, hd: int) -> tuple[str, str]:
    """transformers 4.36: cos_cached[:seq_len][position_ids].unsqueeze(1), sin likewise."""
    cos_t, sin_t = rope_tables(m.rope_theta, hd, m.max_position, full=True)
    total = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", ["attention_mask"]), b.const(1)],
                                    axis=0), b.const([0])])
    return tuple(b.op("Unsqueeze", [b.op("Gather", [b.op("Slice", [b.init(name, table),
                                                                    b.const([0]), total,
                                                                    b.const([0])]),
                                                     "position_ids"]), b.const([1])])
                 for name, table in (("cos_cached", cos_t), ("sin_cached", sin_t)))


def llama_plain(spec, store, transformers: str = "4.36") -> "onnx.ModelProto":
    """`transformers` "4.45": RoPE angles computed from inv_freq at run time and attention
    through torch's scaled_dot_product_attention symbolic (q and k^T each times
    sqrt(1 / sqrt(head_dim)), then MatMul, mask Add, Softmax, MatMul): transformers v4.45.0
    modeling_llama.py with attn_implementation "sdpa", torch 2.4 torch/onnx/symbolic_opset14.py
    scaled_dot_product_attention."""
    m = spec
    nh, nkv, hd, hidden = m.num_heads, m.num_kv_heads, m.head_dim, m.hidden_size
    sdpa = transformers != "4.36"
    b = Onnx()
    x = b.op("Gather", [b.init("model.embed_tokens.weight", store.weight("embed")), "input_ids"],
             name="/model/embed_tokens/Gather")
    mask = causal_mask(b, "attention_mask", "input_ids")
    cos, sin = _rope_from_inv_freq(b, m.rope_theta, hd) if sdpa else _rope_from_tables(b, m, hd)
    for i in range(m.num_layers):
        p = f"model.layers.{i}"
        h = _rmsnorm(b, x, store.weight(f"L{i}.attn_norm"), m.norm_eps, f"{p}.input_layernorm")
        proj = {r: b.op("MatMul", [h, b.init(f"onnx::MatMul_{p}.{r}",
                                            store.weight(f"L{i}.{r}_proj"))],
                        name=f"/{p}/self_attn/{r}_proj/MatMul") for r in "qkv"}
        q = _rotate(b, _heads(b, proj["q"], h, nh, hd), cos, sin, hd // 2)
        k = _rotate(b, _heads(b, proj["k"], h, nkv, hd), cos, sin, hd // 2)
        v = _heads(b, proj["v"], h, nkv, hd)
        k = b.op("Concat", [f"past_key_values.{i}.key", k], [f"present.{i}.key"], axis=2)
        v = b.op("Concat", [f"past_key_values.{i}.value", v], [f"present.{i}.value"], axis=2)
        k, v = (b.op("Reshape", [b.op("Expand", [b.op("Unsqueeze", [t, b.const([2])]),
                                                 b.const([1, 1, nh // nkv, 1, 1])]),
                                 b.const([0, nh, -1, hd])]) for t in (k, v))
        k_t = b.op("Transpose", [k], perm=[0, 1, 3, 2])
        if sdpa:
            root = b.const(np.sqrt(1.0 / np.sqrt(hd)), np.float32)
            scores = b.op("MatMul", [b.op("Mul", [q, root]), b.op("Mul", [k_t, root])])
        else:
            scores = b.op("Div", [b.op("MatMul", [q, k_t]), b.const(np.sqrt(hd), np.float32)])
        scores = b.op("Add", [scores, mask])
        probs = b.op("Cast", [b.op("Softmax", [scores], axis=-1)], to=TensorProto.FLOAT)
        ctx = b.op("Transpose", [b.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = b.op("Reshape", [ctx, b.const([0, 0, nh * hd])])
        o = b.op("MatMul", [ctx, b.init(f"onnx::MatMul_{p}.o", store.weight(f"L{i}.o_proj"))],
                 name=f"/{p}/self_attn/o_proj/MatMul")
        x = b.op("Add", [x, o])
        h = _rmsnorm(b, x, store.weight(f"L{i}.mlp_norm"), m.norm_eps,
                     f"{p}.post_attention_layernorm")
        gate = b.op("MatMul", [h, b.init(f"onnx::MatMul_{p}.gate",
                                         store.weight(f"L{i}.mlp_gate"))])
        up = b.op("MatMul", [h, b.init(f"onnx::MatMul_{p}.up", store.weight(f"L{i}.mlp_up"))])
        act = b.op("Mul", [gate, b.op("Sigmoid", [gate])])
        down = b.op("MatMul", [b.op("Mul", [act, up]),
                               b.init(f"onnx::MatMul_{p}.down", store.weight(f"L{i}.mlp_down"))])
        x = b.op("Add", [x, down])
    x = _rmsnorm(b, x, store.weight("final_norm"), m.norm_eps, "model.norm")
    b.op("MatMul", [x, b.init("onnx::MatMul_lm_head", store.weight("lm_head"))], ["logits"])
    return b.model(decoder_inputs(m.num_layers, nkv, hd),
                   decoder_outputs(m.num_layers, m.vocab_size, nkv, hd))


class _GenaiBuilder(Onnx):
    """The model builder's make_matmul / make_layernorm / make_attention, per layer."""

    def __init__(self, spec, store, int4_block: int | None, packed: bool) -> None:
        super().__init__()
        self.m, self.store, self.int4_block, self.packed = spec, store, int4_block, packed

    def matmul(self, x: str, name: str, weight: np.ndarray) -> str:
        if self.int4_block is None:
            return self.op("MatMul", [x, self.init(f"{name}.MatMul.weight", weight)],
                           name=f"{name}/MatMul")
        packed, scales, _ = quantize_nbits(weight, self.int4_block)
        return self.op("MatMulNBits", [x, self.init(f"{name}.MatMul.weight_Q4", packed),
                                       self.init(f"{name}.MatMul.weight_scales", scales)],
                       name=f"{name}/MatMulNBits", domain=MS, K=weight.shape[0],
                       N=weight.shape[1], bits=4, block_size=self.int4_block, accuracy_level=0)

    def skip_norm(self, x: str, skip: str, gamma: np.ndarray, name: str) -> tuple[str, str]:
        outs = self.op("SkipSimplifiedLayerNormalization",
                       [x, skip, self.init(f"{name}.weight", gamma)],
                       [f"{name}/output_0", "", "", f"{name}/output_3"], name=name, domain=MS,
                       epsilon=self.m.norm_eps)
        return outs[0], outs[3]

    def attention(self, i: int, h: str, seqlens: str, total: str, cos: str, sin: str) -> str:
        p, w = f"/model/layers.{i}", self.store.weight
        if self.packed:
            qkv = np.concatenate([w(f"L{i}.{r}_proj") for r in "qkv"], axis=1)
            q, k, v = self.matmul(h, f"{p}/attn/qkv_proj", qkv), "", ""
            rotary = dict(do_rotary=1, rotary_interleaved=0)
        else:
            q, k, v = (self.matmul(h, f"{p}/attn/{r}_proj", w(f"L{i}.{r}_proj")) for r in "qkv")
            q, k = (self.op("RotaryEmbedding", [t, "position_ids", cos, sin], domain=MS,
                            interleaved=0, name=f"{p}/attn/{r}_rotary/RotaryEmbedding")
                    for t, r in ((q, "q"), (k, "k")))
            rotary = {}
        ins = [q, k, v, f"past_key_values.{i}.key", f"past_key_values.{i}.value", seqlens, total]
        attn = self.op("GroupQueryAttention", ins + ([cos, sin] if self.packed else []),
                       [f"{p}/attn/GroupQueryAttention/output_0", f"present.{i}.key",
                        f"present.{i}.value"], name=f"{p}/attn/GroupQueryAttention", domain=MS,
                       num_heads=self.m.num_heads, kv_num_heads=self.m.num_kv_heads,
                       local_window_size=-1, **rotary)[0]
        return self.matmul(attn, f"{p}/attn/o_proj", w(f"L{i}.o_proj"))

    def mlp(self, i: int, h: str) -> str:
        p, w = f"/model/layers.{i}", self.store.weight
        gate = self.matmul(h, f"{p}/mlp/gate_proj", w(f"L{i}.mlp_gate"))
        up = self.matmul(h, f"{p}/mlp/up_proj", w(f"L{i}.mlp_up"))
        act = self.op("Mul", [gate, self.op("Sigmoid", [gate], name=f"{p}/mlp/act_fn/Sigmoid")],
                      name=f"{p}/mlp/act_fn/Mul")
        return self.matmul(self.op("Mul", [act, up], name=f"{p}/mlp/Mul"), f"{p}/mlp/down_proj",
                           w(f"L{i}.mlp_down"))


def llama_genai(spec, store, int4_block: int | None = None,
                packed: bool = False) -> "onnx.ModelProto":
    """The model builder's graph; `int4_block`: every MatMul as MatMulNBits of that block;
    `packed`: q/k/v as one MatMul of [Wq | Wk | Wv] feeding GroupQueryAttention's query input
    alone, rotated inside it (do_rotary=1 with the cos/sin caches as inputs 7 and 8): the
    builder's use_packed_matmul + use_rotemb_in_attn form (Model.make_attention)."""
    m, w = spec, store.weight
    b = _GenaiBuilder(spec, store, int4_block, packed)
    x = b.op("Gather", [b.init("model.embed_tokens.weight", w("embed")), "input_ids"],
             name="/model/embed_tokens/Gather")
    seqlens = b.op("Cast", [b.op("Sub", [b.op("ReduceSum", ["attention_mask", b.const([1])]),
                                         b.const(1)])], to=TensorProto.INT32)
    total = b.op("Cast", [b.op("Gather", [b.op("Shape", ["attention_mask"]), b.const(1)],
                               axis=0)], to=TensorProto.INT32)
    cos_t, sin_t = rope_tables(m.rope_theta, m.head_dim, m.max_position, full=False)
    cos, sin = b.init("cos_cache", cos_t), b.init("sin_cache", sin_t)
    h = b.op("SimplifiedLayerNormalization",
             [x, b.init("model.layers.0.input_layernorm.weight", w("L0.attn_norm"))],
             name="/model/layers.0/input_layernorm/LayerNorm", axis=-1, epsilon=m.norm_eps,
             stash_type=1)
    residual = x
    for i in range(m.num_layers):
        p = f"/model/layers.{i}"
        if i:
            h, residual = b.skip_norm(down, residual, w(f"L{i}.attn_norm"),
                                      f"{p}/input_layernorm/SkipLayerNorm")
        o = b.attention(i, h, seqlens, total, cos, sin)
        h, residual = b.skip_norm(o, residual, w(f"L{i}.mlp_norm"),
                                  f"{p}/post_attention_layernorm/SkipLayerNorm")
        down = b.mlp(i, h)
    h, _ = b.skip_norm(down, residual, w("final_norm"),
                       "/model/layers.final/final_norm_layernorm/SkipLayerNorm")
    b.op("Identity", [b.matmul(h, "/lm_head", w("lm_head"))], ["logits"])
    return b.model(decoder_inputs(m.num_layers, m.num_kv_heads, m.head_dim),
                   decoder_outputs(m.num_layers, m.vocab_size, m.num_kv_heads, m.head_dim),
                   ms_opset=True, opset=21, producer="onnxruntime-genai")
