"""ModelSpec: the architecture facts a front end extracts from a model description.

Everything downstream (graph builder, reference executor, inspect) reads only this, so a new
front end (ONNX) only has to produce a ModelSpec.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class MoeSpec:
    """Mixture of experts in the FFN (Mixtral, DeepSeek)."""

    num_experts: int            # routed experts
    experts_per_token: int      # top-k
    expert_intermediate: int    # FFN width of one routed expert
    shared_experts: int = 0     # always-on experts (DeepSeek), each expert_intermediate wide
    first_dense_layers: int = 0  # leading layers with a dense FFN instead (DeepSeek)
    dense_intermediate: int = 0  # FFN width of those dense layers


@dataclass(frozen=True, kw_only=True)
class MlaSpec:
    """Multi-head latent attention (DeepSeek-V2): K/V compressed into a latent of kv_lora_rank."""

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None  # None: queries projected directly (V2-Lite)


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """A decoder-only transformer, as the front end read it. Sizes are element counts."""

    name: str
    family: str                  # HF model_type: llama, mistral, qwen2, gemma, phi, opt, ...
    source: str                  # where the config came from
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position: int
    norm: str = "rmsnorm"        # rmsnorm | layernorm
    norm_eps: float = 1e-5
    activation: str = "silu"     # silu | gelu | gelu_tanh | relu
    gated_mlp: bool = True       # gate * up (LLaMA) vs a single up projection (OPT, GPT-2)
    position: str = "rope"       # rope | learned
    rope_theta: float = 10000.0
    rotary_fraction: float = 1.0  # phi-2 rotates 40 % of each head
    parallel_block: bool = False  # attention and MLP read the same normed input (phi, neox)
    qkv_bias: bool = False
    out_bias: bool = False        # o_proj and MLP biases (OPT, GPT-2, phi)
    tie_embeddings: bool = False
    embedding_scale: bool = False  # gemma multiplies embeddings by sqrt(hidden)
    moe: MoeSpec | None = None
    mla: MlaSpec | None = None
    checkpoint_dtype: str = "fp16"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def attention_window(self) -> int | None:
        """Sliding-window span in positions (Mistral's `sliding_window`; Qwen2's only when
        `use_sliding_window`), or None for full causal attention."""
        window = self.extra.get("sliding_window")
        if window is None or not self.extra.get("use_sliding_window", True):
            return None
        return int(window)

    @property
    def kv_heads_ratio(self) -> int:
        return self.num_heads // self.num_kv_heads
