"""Input limits of the config.json front end: file size, nesting, and a bound per model dimension.

Without bounds a config with `num_hidden_layers: 100000` compiles for minutes and a NaN or zero
`rms_norm_eps` crashes the reference. Every integer a reader takes is bounded by the limit of its
config key here (else DEFAULT_MAX_INT); the error names the key, the value and the limit. The
bounds are a decade or more beyond the largest published decoder (LLaMA-3.1-405B: hidden 16,384,
126 layers, 128 heads; DeepSeek-V3: 256 routed experts; Gemma: vocabulary 256,000).
docs/cli.md lists them.
"""
from __future__ import annotations

MAX_CONFIG_CHARS = 2**20     # 1 MiB; Hugging Face configs are a few KiB
MAX_CONFIG_DEPTH = 16        # configs nest 3 deep (rope_scaling, quantization_config)
DEFAULT_MAX_INT = 2**24      # any other integer key

MAX_LAYERS = 1024
MAX_HIDDEN = 65536
MAX_HEADS = 1024
MAX_HEAD_DIM = 4096
MAX_FFN = 2**19              # 524,288
MAX_VOCAB = 2**20            # 1,048,576
MAX_POSITIONS = 2**24        # 16,777,216 tokens
MAX_EXPERTS = 1024

KEY_LIMITS: dict[str, int] = {
    "num_hidden_layers": MAX_LAYERS, "n_layer": MAX_LAYERS,
    "first_k_dense_replace": MAX_LAYERS, "moe_layer_freq": MAX_LAYERS,
    "hidden_size": MAX_HIDDEN, "n_embd": MAX_HIDDEN, "word_embed_proj_dim": MAX_HIDDEN,
    "kv_lora_rank": MAX_HIDDEN, "q_lora_rank": MAX_HIDDEN,
    "num_attention_heads": MAX_HEADS, "n_head": MAX_HEADS, "num_key_value_heads": MAX_HEADS,
    "head_dim": MAX_HEAD_DIM, "qk_nope_head_dim": MAX_HEAD_DIM,
    "qk_rope_head_dim": MAX_HEAD_DIM, "v_head_dim": MAX_HEAD_DIM,
    "intermediate_size": MAX_FFN, "ffn_dim": MAX_FFN, "n_inner": MAX_FFN,
    "moe_intermediate_size": MAX_FFN,
    "vocab_size": MAX_VOCAB,
    "max_position_embeddings": MAX_POSITIONS, "n_positions": MAX_POSITIONS,
    "num_local_experts": MAX_EXPERTS, "n_routed_experts": MAX_EXPERTS,
    "num_experts_per_tok": MAX_EXPERTS, "n_shared_experts": MAX_EXPERTS,
}

# real-valued keys: (least, greatest, whether the least is excluded)
NUMBER_LIMITS: dict[str, tuple[float, float, bool]] = {
    "rms_norm_eps": (0.0, 1.0, True), "layer_norm_eps": (0.0, 1.0, True),
    "layer_norm_epsilon": (0.0, 1.0, True),
    "rope_theta": (0.0, 1e12, True), "rotary_emb_base": (0.0, 1e12, True),
    "partial_rotary_factor": (0.0, 1.0, True), "rotary_pct": (0.0, 1.0, True),
}
DEFAULT_NUMBER_LIMIT = (0.0, 1e12, False)


def integer_limit(key: str) -> int:
    return KEY_LIMITS.get(key, DEFAULT_MAX_INT)


def number_limit(key: str) -> tuple[float, float, bool]:
    return NUMBER_LIMITS.get(key, DEFAULT_NUMBER_LIMIT)
