"""Hugging Face `config.json` -> ModelSpec.

One reader per `model_type`; each knows that family's key names and the defaults the matching
transformers config class uses when a key is absent. Sizes the model cannot do without (hidden
size, depth, heads, FFN width, vocabulary) are required: a config without one is an error, not a
guess. Whatever the spec has no field for but a later stage may want (sliding windows, RoPE
scaling, router details, ...) goes into `ModelSpec.extra`.
"""
from __future__ import annotations

from typing import Any, Callable

from compiler.errors import CompilerError
from compiler.frontend.limits import integer_limit, number_limit
from compiler.model import MlaSpec, ModelSpec, MoeSpec

_ACTIVATIONS = {
    "silu": "silu", "swish": "silu",
    "gelu": "gelu",
    "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh",
    "gelu_accurate": "gelu_tanh",
    "relu": "relu",
}
_DTYPES = {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}


class _Reader:
    """Typed access to one config dict; every complaint is one line naming the model and key."""

    def __init__(self, config: dict, name: str, family: str):
        self.config, self.name, self.family = config, name, family

    def fail(self, what: str) -> CompilerError:
        return CompilerError(f"{self.name}: {what} (model_type {self.family})")

    def has(self, key: str) -> bool:
        return self.config.get(key) is not None

    def _get(self, key: str, default: Any) -> Any:
        if self.has(key):
            return self.config[key]
        if default is _REQUIRED:
            raise self.fail(f"config.json has no {key!r}")
        return default

    def integer(self, key: str, default: Any = None, *, minimum: int = 1) -> Any:
        """The key's integer value, or `default` when absent or null (no default: required)."""
        value = self._get(key, _REQUIRED if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(f"config.json {key!r} must be an integer >= {minimum}, "
                            f"got {_short(value)}")
        if value > integer_limit(key):
            raise self.fail(f"config.json {key!r} is {value}, above the limit of "
                            f"{integer_limit(key)}")
        return value

    def optional_integer(self, key: str, *, minimum: int = 1) -> int | None:
        return self.integer(key, minimum=minimum) if self.has(key) else None

    def number(self, key: str, default: float) -> float:
        value = self._get(key, default)
        low, high, open_low = number_limit(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (low < value if open_low else low <= value) or not value <= high:
            span = f"{'(' if open_low else '['}{low:g}, {high:g}]"
            raise self.fail(f"config.json {key!r} must be a number in {span}, got "
                            f"{_short(value)}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"config.json {key!r} must be true or false, got {value!r}")
        return value

    def activation(self, key: str, default: str) -> str:
        raw = self._get(key, default)
        if not isinstance(raw, str) or raw not in _ACTIVATIONS:
            raise self.fail(f"config.json {key!r} names activation {raw!r}, which is not "
                            f"supported (supported: {', '.join(sorted(_ACTIVATIONS))})")
        return _ACTIVATIONS[raw]

    def head_split(self, hidden: int, heads: int) -> int:
        if hidden % heads:
            raise self.fail(f"hidden size {hidden} does not split into {heads} attention heads")
        return hidden // heads

    def kv_heads(self, heads: int, key: str = "num_key_value_heads") -> int:
        kv = self.integer(key, heads)
        if heads % kv:
            raise self.fail(f"{heads} attention heads do not group evenly over {kv} key/value "
                            "heads")
        return kv

    def rope_theta(self, default: float = 10000.0) -> float:
        params = self.config.get("rope_parameters")  # the transformers >= 5 spelling
        if not self.has("rope_theta") and isinstance(params, dict) \
                and params.get("rope_theta") is not None:
            return _Reader(params, self.name, self.family).number("rope_theta", default)
        return self.number("rope_theta", default)

    def dtype(self) -> tuple[str, bool]:
        """(checkpoint dtype, whether the config said it); an unstated dtype reads as fp16."""
        key = "torch_dtype" if self.has("torch_dtype") else "dtype"
        if not self.has(key):
            return "fp16", False
        raw = self.config[key]
        if not isinstance(raw, str) or raw not in _DTYPES:
            raise self.fail(f"config.json {key!r} is {raw!r}, not one of "
                            f"{', '.join(sorted(_DTYPES))}")
        return _DTYPES[raw], True

    def copy_extra(self, extra: dict, *keys: str) -> None:
        for key in keys:
            if key in self.config:
                extra[key] = self.config[key]


_REQUIRED = object()


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- one reader per family

def _rope_decoder(r: _Reader, *, eps_default: float, head_dim_default: int | None = None,
                  max_position_default: int, act_default: str = "silu",
                  tie_default: bool = False) -> dict:
    """The LLaMA shape: RMSNorm, gated MLP, RoPE, grouped-query attention."""
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads")
    if r.has("head_dim"):
        head_dim = r.integer("head_dim")
    else:
        head_dim = head_dim_default or r.head_split(hidden, heads)
    fields = dict(
        hidden_size=hidden, num_layers=r.integer("num_hidden_layers"), num_heads=heads,
        num_kv_heads=r.kv_heads(heads), head_dim=head_dim,
        intermediate_size=r.integer("intermediate_size"), vocab_size=r.integer("vocab_size"),
        max_position=r.integer("max_position_embeddings", max_position_default),
        norm="rmsnorm", norm_eps=r.number("rms_norm_eps", eps_default),
        activation=r.activation("hidden_act", act_default), gated_mlp=True, position="rope",
        rope_theta=r.rope_theta(), tie_embeddings=r.flag("tie_word_embeddings", tie_default),
    )
    return fields


def _llama(r: _Reader, extra: dict) -> dict:
    fields = _rope_decoder(r, eps_default=1e-6, max_position_default=2048)
    attention_bias = r.flag("attention_bias", False)
    fields.update(qkv_bias=attention_bias,
                  out_bias=attention_bias or r.flag("mlp_bias", False))
    r.copy_extra(extra, "attention_bias", "mlp_bias", "pretraining_tp")
    return fields


def _mistral(r: _Reader, extra: dict) -> dict:
    fields = _rope_decoder(r, eps_default=1e-6, max_position_default=4096 * 32)
    r.copy_extra(extra, "sliding_window")
    return fields


def _qwen2(r: _Reader, extra: dict) -> dict:
    fields = _rope_decoder(r, eps_default=1e-6, max_position_default=32768)
    fields.update(qkv_bias=True, out_bias=False)  # Qwen2 biases q/k/v only, always
    r.copy_extra(extra, "sliding_window", "use_sliding_window", "max_window_layers")
    return fields


def _gemma(r: _Reader, extra: dict) -> dict:
    # GemmaConfig: head_dim 256 regardless of hidden/heads, tied embeddings, embeddings scaled
    # by sqrt(hidden). transformers runs tanh-approximate GeLU whatever `hidden_act` says unless
    # `hidden_activation` names another.
    fields = _rope_decoder(r, eps_default=1e-6, head_dim_default=256, max_position_default=8192,
                           act_default="gelu", tie_default=True)
    fields["activation"] = (r.activation("hidden_activation", "gelu_pytorch_tanh")
                            if r.has("hidden_activation") else "gelu_tanh")
    fields.update(embedding_scale=True, qkv_bias=r.flag("attention_bias", False))
    extra["hidden_act"] = r.config.get("hidden_act")
    extra["rmsnorm_weight_offset"] = 1.0  # Gemma's RMSNorm multiplies by (1 + weight)
    return fields


def _mixtral(r: _Reader, extra: dict) -> dict:
    fields = _rope_decoder(r, eps_default=1e-5, max_position_default=4096 * 32)
    experts = r.integer("num_local_experts")
    top_k = r.integer("num_experts_per_tok", 2)
    if top_k > experts:
        raise r.fail(f"routes each token to {top_k} experts but has only {experts}")
    fields["moe"] = MoeSpec(num_experts=experts, experts_per_token=top_k,
                            expert_intermediate=fields["intermediate_size"])
    r.copy_extra(extra, "sliding_window", "router_aux_loss_coef")
    return fields


def _deepseek_v2(r: _Reader, extra: dict) -> dict:
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads")
    layers = r.integer("num_hidden_layers")
    mla = MlaSpec(kv_lora_rank=r.integer("kv_lora_rank"),
                  qk_nope_head_dim=r.integer("qk_nope_head_dim"),
                  qk_rope_head_dim=r.integer("qk_rope_head_dim"),
                  v_head_dim=r.integer("v_head_dim"),
                  q_lora_rank=r.optional_integer("q_lora_rank"))  # null: queries unprojected
    dense = r.integer("intermediate_size")
    moe = None
    if r.has("n_routed_experts"):  # null there means a dense DeepSeek-V2
        experts = r.integer("n_routed_experts")
        top_k = r.integer("num_experts_per_tok")
        if top_k > experts:
            raise r.fail(f"routes each token to {top_k} experts but has only {experts}")
        first_dense = r.integer("first_k_dense_replace", 0, minimum=0)
        if first_dense > layers:
            raise r.fail(f"first_k_dense_replace {first_dense} exceeds the {layers} layers")
        moe = MoeSpec(num_experts=experts, experts_per_token=top_k,
                      expert_intermediate=r.integer("moe_intermediate_size"),
                      shared_experts=r.integer("n_shared_experts", 0, minimum=0),
                      first_dense_layers=first_dense, dense_intermediate=dense)
        extra["moe_layer_freq"] = r.integer("moe_layer_freq", 1)
    r.copy_extra(extra, "rope_scaling", "topk_method", "scoring_func", "norm_topk_prob",
                 "routed_scaling_factor", "n_group", "topk_group")
    return dict(
        hidden_size=hidden, num_layers=layers, num_heads=heads, num_kv_heads=r.kv_heads(heads),
        head_dim=mla.qk_nope_head_dim + mla.qk_rope_head_dim,  # query/key width per head
        intermediate_size=dense, vocab_size=r.integer("vocab_size"),
        max_position=r.integer("max_position_embeddings", 2048), norm="rmsnorm",
        norm_eps=r.number("rms_norm_eps", 1e-6), activation=r.activation("hidden_act", "silu"),
        gated_mlp=True, position="rope", rope_theta=r.rope_theta(),
        qkv_bias=r.flag("attention_bias", False),
        tie_embeddings=r.flag("tie_word_embeddings", False), moe=moe, mla=mla,
    )


def _phi(r: _Reader, extra: dict) -> dict:
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads")
    fraction = r.number("partial_rotary_factor", 0.5)
    if not 0 < fraction <= 1:
        raise r.fail(f"partial_rotary_factor must lie in (0, 1], got {fraction}")
    extra["lm_head_bias"] = True
    r.copy_extra(extra, "qk_layernorm")
    return dict(
        hidden_size=hidden, num_layers=r.integer("num_hidden_layers"), num_heads=heads,
        num_kv_heads=r.kv_heads(heads), head_dim=r.head_split(hidden, heads),
        intermediate_size=r.integer("intermediate_size"), vocab_size=r.integer("vocab_size"),
        max_position=r.integer("max_position_embeddings", 2048), norm="layernorm",
        norm_eps=r.number("layer_norm_eps", 1e-5),
        activation=r.activation("hidden_act", "gelu_new"),
        gated_mlp=False, position="rope", rope_theta=r.rope_theta(), rotary_fraction=fraction,
        parallel_block=True, qkv_bias=True, out_bias=True,
        tie_embeddings=r.flag("tie_word_embeddings", False),
    )


def _opt(r: _Reader, extra: dict) -> dict:
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads")
    bias = r.flag("enable_bias", True)
    extra["pre_norm"] = r.flag("do_layer_norm_before", True)  # False: post-LN (opt-350m)
    # word_embed_proj_dim != hidden: embeddings are projected in and out (opt-350m)
    extra["word_embed_proj_dim"] = r.integer("word_embed_proj_dim", hidden)
    extra["position_offset"] = 2  # OPT's learned positions start at row 2
    r.copy_extra(extra, "_remove_final_layer_norm")
    return dict(
        hidden_size=hidden, num_layers=r.integer("num_hidden_layers"), num_heads=heads,
        num_kv_heads=heads, head_dim=r.head_split(hidden, heads),
        intermediate_size=r.integer("ffn_dim"), vocab_size=r.integer("vocab_size"),
        max_position=r.integer("max_position_embeddings", 2048), norm="layernorm", norm_eps=1e-5,
        activation=r.activation("activation_function", "relu"), gated_mlp=False,
        position="learned", qkv_bias=bias, out_bias=bias,
        tie_embeddings=r.flag("tie_word_embeddings", True),
    )


def _gpt2(r: _Reader, extra: dict) -> dict:
    hidden = r.integer("n_embd")
    heads = r.integer("n_head")
    return dict(
        hidden_size=hidden, num_layers=r.integer("n_layer"), num_heads=heads, num_kv_heads=heads,
        head_dim=r.head_split(hidden, heads),
        intermediate_size=r.integer("n_inner", 4 * hidden),  # null means 4 * n_embd
        vocab_size=r.integer("vocab_size"), max_position=r.integer("n_positions", 1024),
        norm="layernorm", norm_eps=r.number("layer_norm_epsilon", 1e-5),
        activation=r.activation("activation_function", "gelu_new"), gated_mlp=False,
        position="learned", qkv_bias=True, out_bias=True,
        tie_embeddings=r.flag("tie_word_embeddings", True),
    )


def _gpt_neox(r: _Reader, extra: dict) -> dict:
    hidden = r.integer("hidden_size")
    heads = r.integer("num_attention_heads")
    fraction = r.number("rotary_pct", 0.25)
    if not 0 < fraction <= 1:
        raise r.fail(f"rotary_pct must lie in (0, 1], got {fraction}")
    bias = r.flag("attention_bias", True)
    parallel = r.flag("use_parallel_residual", True)
    if parallel:
        extra["parallel_norms"] = 2  # attention and MLP each have their own LayerNorm of x
    theta = r.rope_theta() if r.has("rope_theta") else r.number("rotary_emb_base", 10000.0)
    return dict(
        hidden_size=hidden, num_layers=r.integer("num_hidden_layers"), num_heads=heads,
        num_kv_heads=heads, head_dim=r.head_split(hidden, heads),
        intermediate_size=r.integer("intermediate_size"), vocab_size=r.integer("vocab_size"),
        max_position=r.integer("max_position_embeddings", 2048), norm="layernorm",
        norm_eps=r.number("layer_norm_eps", 1e-5), activation=r.activation("hidden_act", "gelu"),
        gated_mlp=False, position="rope", rope_theta=theta, rotary_fraction=fraction,
        parallel_block=parallel, qkv_bias=bias, out_bias=bias,
        tie_embeddings=r.flag("tie_word_embeddings", False),
    )


_READERS: dict[str, Callable[[_Reader, dict], dict]] = {
    "llama": _llama, "mistral": _mistral, "qwen2": _qwen2, "gemma": _gemma, "phi": _phi,
    "opt": _opt, "gpt2": _gpt2, "gpt_neox": _gpt_neox, "mixtral": _mixtral,
    "deepseek_v2": _deepseek_v2,
}
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(_READERS))


def _weight_quant(r: _Reader, qc: object) -> dict:
    """A GPTQ / AWQ checkpoint's `quantization_config` as the compiler's weight_quant:
    {bits, group_size (None: per output channel, GPTQ's -1), format}."""
    if not isinstance(qc, dict):
        raise r.fail(f"config.json 'quantization_config' must be an object, got {qc!r}")
    method = qc.get("quant_method")
    if method not in ("gptq", "awq"):
        raise r.fail(f"config.json 'quantization_config.quant_method' is {method!r}; the "
                     "compiler reads gptq and awq checkpoints")
    bits = qc.get("bits")
    if isinstance(bits, bool) or bits not in (2, 3, 4, 8):
        raise r.fail(f"config.json 'quantization_config.bits' must be 2, 3, 4 or 8, got "
                     f"{bits!r}")
    group = qc.get("group_size", 128)
    if group != -1 and (isinstance(group, bool) or not isinstance(group, int) or group < 1):
        raise r.fail(f"config.json 'quantization_config.group_size' must be -1 (per channel) "
                     f"or an integer >= 1, got {group!r}")
    return {"bits": bits, "group_size": None if group == -1 else group, "format": method}


def spec_from_hf_config(config: dict, name: str, source: str) -> ModelSpec:
    """Read a parsed Hugging Face config.json. `name` labels the model (and every error);
    `source` says where the config came from. Raises CompilerError (one line) on a missing or
    ill-typed key or an unsupported model_type."""
    if not isinstance(config, dict):
        raise CompilerError(f"{name}: config.json must hold a JSON object, "
                            f"not {type(config).__name__}")
    family = config.get("model_type")
    if family is None:
        raise CompilerError(f"{name}: config.json has no 'model_type'")
    if not isinstance(family, str) or family not in _READERS:
        raise CompilerError(f"{name}: unknown model_type {family!r} "
                            f"(supported: {', '.join(SUPPORTED_MODEL_TYPES)})")
    reader = _Reader(config, name, family)
    extra: dict = {}
    fields = _READERS[family](reader, extra)
    if reader.has("rope_scaling") and fields.get("position") == "rope":
        extra.setdefault("rope_scaling", config["rope_scaling"])
    if "architectures" in config:
        extra["architectures"] = config["architectures"]
    if reader.has("quantization_config"):
        extra["weight_quant"] = _weight_quant(reader, config["quantization_config"])
    dtype, stated = reader.dtype()
    if not stated:
        extra["checkpoint_dtype_assumed"] = True
    return ModelSpec(name=name, family=family, source=source, checkpoint_dtype=dtype,
                     extra=extra, **fields)
