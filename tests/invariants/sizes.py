"""An independent estimate of the off-chip bytes a run must hold: weights plus KV cache, from
the model's architecture (ModelSpec fields) and the workload, by closed formula.

Policy it assumes (DESIGN.md / compiler.passes.quantize docs): linear-layer weights at the
scheme's weight width (fp16 16, w8a8 8, w4a16 / w4a8 4 bits); embeddings, norms and biases at
fp16; tied embeddings stored once. KV cache: fp16 unless --kv-bits < 16; int8 activations
(w8a8, w4a8) store it as int8 (or narrower). MLA caches one latent of kv_lora_rank +
qk_rope_head_dim per token and layer. Positions cached: context + the step's new tokens
(generate: seq + gen - 1 + 1).
"""
from __future__ import annotations

WEIGHT_BITS = {"fp16": 16, "w8a8": 8, "w8a16": 8, "w4a16": 4, "w4a8": 4}
INT8_ACT = ("w8a8", "w4a8")


def _layer_linear_elements(m, layer: int) -> int:
    h = m.hidden_size
    if m.mla is not None:
        a = m.mla
        attn = h * m.num_heads * (a.qk_nope_head_dim + a.qk_rope_head_dim) \
            + h * (a.kv_lora_rank + a.qk_rope_head_dim) \
            + a.kv_lora_rank * m.num_heads * (a.qk_nope_head_dim + a.v_head_dim) \
            + m.num_heads * a.v_head_dim * h
    else:
        attn = h * m.head_dim * (2 * m.num_heads + 2 * m.num_kv_heads)
    mats = 3 if m.gated_mlp else 2
    if m.moe is None:
        mlp = mats * h * m.intermediate_size
    elif layer < m.moe.first_dense_layers:
        mlp = mats * h * (m.moe.dense_intermediate or m.intermediate_size)
    else:
        mlp = h * m.moe.num_experts + mats * h * m.moe.expert_intermediate * (
            m.moe.num_experts + m.moe.shared_experts)
    return attn + mlp


def weight_bytes(m, layers: int, quant: str) -> float:
    linear = sum(_layer_linear_elements(m, i) for i in range(layers))
    linear += 0 if m.tie_embeddings else m.vocab_size * m.hidden_size  # lm_head
    fp16 = m.vocab_size * m.hidden_size  # embedding table
    if m.position == "learned":
        fp16 += m.max_position * m.hidden_size
    return linear * WEIGHT_BITS[quant] / 8 + fp16 * 2


def kv_bytes(m, layers: int, quant: str, kv_bits: int, batch: int, positions: int) -> float:
    bits = kv_bits if kv_bits < 16 else 16
    if quant in INT8_ACT:
        bits = min(bits, 8)
    if m.mla is not None:
        per_token = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
    else:
        per_token = 2 * m.num_kv_heads * m.head_dim
    return layers * batch * positions * per_token * bits / 8


def needed_bytes(m, workload: dict) -> float:
    layers = workload.get("layers") or m.num_layers
    phase = workload["phase"]
    positions = {"prefill": workload["seq"], "decode": workload["context"] + 1,
                 "generate": workload["seq"] + workload["gen"]}[phase]
    return weight_bytes(m, layers, workload["quant"]) + kv_bytes(
        m, layers, workload["quant"], workload["kv_bits"], workload["batch"], positions)
