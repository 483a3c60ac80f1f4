"""A tiny OPT-style test graph (pre-LayerNorm, learned positions with OPT's offset of 2, ReLU
MLP, biases, tied LM head), written node for node as `optimum-cli export onnx --task
text-generation-with-past` (optimum 1.16, torch.onnx TorchScript exporter, opset 17, so
nn.LayerNorm is one LayerNormalization) writes transformers 4.36 OPTForCausalLM.

Source: transformers v4.36.0 src/transformers/models/opt/modeling_opt.py:
OPTLearnedPositionalEmbedding.forward (positions = cumsum(mask) * mask - 1, sliced past the
cache, + offset 2, then the table Gather), OPTAttention.forward (q_proj(x) * scaling; _shape
view + transpose; past concat; bmm over (bsz * heads, -1, head_dim); mask added in
(bsz, heads, tgt, src) then clamped with max(finfo.min); softmax; bmm; transpose; reshape;
out_proj), OPTDecoderLayer.forward (do_layer_norm_before=True: LayerNorm, attention, residual
add, final_layer_norm, fc1, ReLU, fc2, residual add), OPTDecoder (final_layer_norm) and the
lm_head tied to embed_tokens (the exporter's constant folding stores the transposed table as its
own initializer).
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto

from tests.compiler.onnx_build import (F32_MIN, Onnx, causal_mask, decoder_inputs,
                                       decoder_outputs)

OFFSET = 2


def _linear(b: Onnx, x: str, store, op: str, name: str) -> str:
    y = b.op("MatMul", [x, b.init(f"onnx::MatMul_{name}", store.weight(op))],
             name=f"/{name}/MatMul")
    return b.op("Add", [b.init(f"{name}.bias", store.bias(op)), y], name=f"/{name}/Add")


def _layernorm(b: Onnx, x: str, weight: np.ndarray, name: str, opset: int = 17) -> str:
    if opset < 17:  # torch.onnx's decomposition of aten::layer_norm before LayerNormalization
        mean = b.op("ReduceMean", [x], axes=[-1], keepdims=1)
        d = b.op("Sub", [x, mean])
        var = b.op("ReduceMean", [b.op("Pow", [d, b.const(2.0, np.float32)])], axes=[-1],
                   keepdims=1)
        y = b.op("Div", [d, b.op("Sqrt", [b.op("Add", [var, b.const(1e-5, np.float32)])])])
        y = b.op("Mul", [y, b.init(f"{name}.weight", weight[0])])
        return b.op("Add", [y, b.init(f"{name}.bias", weight[1])])
    return b.op("LayerNormalization", [x, b.init(f"{name}.weight", weight[0]),
                                       b.init(f"{name}.bias", weight[1])],
                name=f"/{name}/LayerNormalization", axis=-1, epsilon=1e-5)


def _shape(b: Onnx, x: str, src: str, heads: int, head_dim: int) -> str:
    shape = b.op("Shape", [src])
    dims = [b.op("Unsqueeze", [b.op("Gather", [shape, b.const(0)], axis=0), b.const([0])]),
            b.const([-1]), b.const([heads]), b.const([head_dim])]
    return b.op("Transpose", [b.op("Reshape", [x, b.op("Concat", dims, axis=0)])],
                perm=[0, 2, 1, 3])


def _learned_positions(b: Onnx, store, hidden: int) -> str:
    """OPTLearnedPositionalEmbedding: cumsum(mask) * mask - 1, past the cache, + 2, Gather."""
    mask64 = b.op("Cast", ["attention_mask"], to=TensorProto.INT64)
    positions = b.op("Sub", [b.op("Mul", [b.op("CumSum", [mask64, b.const(1)]), mask64]),
                             b.const(1)])
    seq = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", ["input_ids"]), b.const(1)], axis=0),
                             b.const([0])])
    total = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", ["attention_mask"]), b.const(1)],
                                    axis=0), b.const([0])])
    positions = b.op("Slice", [positions, b.op("Sub", [total, seq]),
                               b.const([np.iinfo(np.int64).max]), b.const([1])])
    table = np.concatenate([np.zeros((OFFSET, hidden), np.float32), store.weight("pos_embed")])
    return b.op("Gather", [b.init("model.decoder.embed_positions.weight", table),
                           b.op("Add", [positions, b.const(OFFSET)])],
                name="/model/decoder/embed_positions/Gather")


def opt_plain(spec, store, opset: int = 17) -> "onnx.ModelProto":
    """`opset` below 17: as torch.onnx writes it for opset 14 (LayerNorm decomposed)."""
    m = spec
    nh, hd, hidden = m.num_heads, m.head_dim, m.hidden_size
    b = Onnx()
    x = b.op("Gather", [b.init("model.decoder.embed_tokens.weight", store.weight("embed")),
                        "input_ids"], name="/model/decoder/embed_tokens/Gather")
    pos = _learned_positions(b, store, hidden)
    x = b.op("Add", [x, pos])
    mask = causal_mask(b, "attention_mask", "input_ids")
    for i in range(m.num_layers):
        p = f"model/decoder/layers.{i}"
        h = _layernorm(b, x, store.weight(f"L{i}.attn_norm"), f"{p}/self_attn_layer_norm",
                       opset)
        q = b.op("Mul", [_linear(b, h, store, f"L{i}.q_proj", f"{p}/self_attn/q_proj"),
                         b.const(hd ** -0.5, np.float32)])
        k = _shape(b, _linear(b, h, store, f"L{i}.k_proj", f"{p}/self_attn/k_proj"), h, nh, hd)
        v = _shape(b, _linear(b, h, store, f"L{i}.v_proj", f"{p}/self_attn/v_proj"), h, nh, hd)
        k = b.op("Concat", [f"past_key_values.{i}.key", k], [f"present.{i}.key"], axis=2)
        v = b.op("Concat", [f"past_key_values.{i}.value", v], [f"present.{i}.value"], axis=2)
        shape = b.op("Shape", [h])
        bsz, tgt = (b.op("Unsqueeze", [b.op("Gather", [shape, b.const(j)], axis=0),
                                       b.const([0])]) for j in (0, 1))
        bh = b.op("Mul", [bsz, b.const([nh])])
        proj = b.op("Concat", [bh, b.const([-1]), b.const([hd])], axis=0)
        q3 = b.op("Reshape", [_shape(b, q, h, nh, hd), proj])
        k3, v3 = b.op("Reshape", [k, proj]), b.op("Reshape", [v, proj])
        scores = b.op("MatMul", [q3, b.op("Transpose", [k3], perm=[0, 2, 1])])
        four = b.op("Concat", [bsz, b.const([nh]), tgt, b.const([-1])], axis=0)
        scores = b.op("Add", [b.op("Reshape", [scores, four]), mask])
        scores = b.op("Max", [scores, b.const(F32_MIN, np.float32)])
        scores = b.op("Reshape", [scores, b.op("Concat", [bh, tgt, b.const([-1])], axis=0)])
        probs = b.op("Softmax", [scores], axis=-1)
        ctx = b.op("Reshape", [b.op("MatMul", [probs, v3]),
                               b.op("Concat", [bsz, b.const([nh, -1, hd])], axis=0)])
        ctx = b.op("Reshape", [b.op("Transpose", [ctx], perm=[0, 2, 1, 3]),
                               b.const([0, 0, nh * hd])])
        x = b.op("Add", [x, _linear(b, ctx, store, f"L{i}.o_proj", f"{p}/self_attn/out_proj")])
        h = _layernorm(b, x, store.weight(f"L{i}.mlp_norm"), f"{p}/final_layer_norm", opset)
        h = b.op("Relu", [_linear(b, h, store, f"L{i}.mlp_fc1", f"{p}/fc1")])
        x = b.op("Add", [x, _linear(b, h, store, f"L{i}.mlp_down", f"{p}/fc2")])
    x = _layernorm(b, x, store.weight("final_norm"), "model/decoder/final_layer_norm", opset)
    b.op("MatMul", [x, b.init("onnx::MatMul_lm_head", store.weight("embed").T.copy())],
         ["logits"], name="/lm_head/MatMul")
    return b.model(decoder_inputs(m.num_layers, nh, hd, position_ids=False),
                   decoder_outputs(m.num_layers, m.vocab_size, nh, hd), opset=opset)


def _skip_layernorm(b: Onnx, x: str, skip: str, weight: np.ndarray, name: str):
    outs = b.op("SkipLayerNormalization", [x, skip, b.init(f"{name}.weight", weight[0]),
                                           b.init(f"{name}.bias", weight[1])],
                [f"{name}/output_0", "", "", f"{name}/output_3"], name=name,
                domain="com.microsoft", epsilon=1e-5)
    return outs[0], outs[3]


def opt_fused(spec, store) -> "onnx.ModelProto":
    """The plain graph after onnxruntime's transformer optimizer (onnxruntime 1.17
    python/tools/transformers: fusion_skiplayernorm.py folds each residual Add into the next
    LayerNorm as SkipLayerNormalization, whose output 3 is the residual sum; the attention
    subgraph becomes one MultiHeadAttention over separate biased q/k/v projections with
    past_key / past_value; unidirectional=1 is the causal mask)."""
    m = spec
    nh, hd, hidden = m.num_heads, m.head_dim, m.hidden_size
    b = Onnx()
    x = b.op("Gather", [b.init("model.decoder.embed_tokens.weight", store.weight("embed")),
                        "input_ids"], name="/model/decoder/embed_tokens/Gather")
    pos = _learned_positions(b, store, hidden)
    h, residual = _skip_layernorm(b, x, pos, store.weight("L0.attn_norm"),
                                  "/model/decoder/layers.0/self_attn_layer_norm/SkipLayerNorm")
    for i in range(m.num_layers):
        p = f"model/decoder/layers.{i}"
        if i:
            h, residual = _skip_layernorm(b, down, residual, store.weight(f"L{i}.attn_norm"),
                                          f"/{p}/self_attn_layer_norm/SkipLayerNorm")
        q, k, v = (_linear(b, h, store, f"L{i}.{r}_proj", f"{p}/self_attn/{r}_proj")
                   for r in "qkv")
        attn = b.op("MultiHeadAttention", [q, k, v, "", "", "", f"past_key_values.{i}.key",
                                           f"past_key_values.{i}.value"],
                    [f"/{p}/self_attn/MultiHeadAttention/output_0", f"present.{i}.key",
                     f"present.{i}.value"], name=f"/{p}/self_attn/MultiHeadAttention",
                    domain="com.microsoft", num_heads=nh, unidirectional=1)[0]
        o = _linear(b, attn, store, f"L{i}.o_proj", f"{p}/self_attn/out_proj")
        h, residual = _skip_layernorm(b, o, residual, store.weight(f"L{i}.mlp_norm"),
                                      f"/{p}/final_layer_norm/SkipLayerNorm")
        h = b.op("Relu", [_linear(b, h, store, f"L{i}.mlp_fc1", f"{p}/fc1")])
        down = _linear(b, h, store, f"L{i}.mlp_down", f"{p}/fc2")
    h, _ = _skip_layernorm(b, down, residual, store.weight("final_norm"),
                           "/model/decoder/final_layer_norm/SkipLayerNorm")
    b.op("MatMul", [h, b.init("onnx::MatMul_lm_head", store.weight("embed").T.copy())],
         ["logits"], name="/lm_head/MatMul")
    return b.model(decoder_inputs(m.num_layers, nh, hd, position_ids=False),
                   decoder_outputs(m.num_layers, m.vocab_size, nh, hd), ms_opset=True,
                   producer="onnxruntime.transformers")
