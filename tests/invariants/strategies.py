"""Hypothesis strategies for the invariant suite: models, targets (presets and `--set`
perturbations of their resources) and workloads.

Models stay tiny (hidden <= 128, <= 2 layers, or a zoo model cut to one layer) so one run takes
well under a second. Perturbations stay physically plausible: x0.25 .. x4 of the preset value.
"""
from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

import targets
from tests.invariants import runner

PRESETS = tuple(targets.preset_names())
TINY_ZOO = ("tiny-llama", "tiny-mixtral", "tiny-deepseek-v2", "tiny-opt")
FULL_ZOO = ("llama2-7b", "llama3-8b", "mistral-7b", "qwen1.5-1.8b", "gemma-2b", "phi-2",
            "opt-6.7b", "gpt3-7b", "mixtral-8x7b", "deepseek-v2-lite")
QUANTS = ("auto", "fp16", "w8a8", "w8a16", "w4a16", "w4a8")
FAMILIES = ("dense", "gqa", "moe", "mla", "opt", "phi", "gpt2", "gpt_neox", "gemma", "qwen2")

# Resource fields by name: more of any of them is a resource increase. `channels` travels with
# the memory's bandwidth (adding a channel adds its bandwidth); see RESOURCE_FIELDS' use below.
RESOURCE_LEAVES = ("freq_hz", "bandwidth_bytes_per_s", "size_bytes", "count", "lanes", "cores",
                   "chains_per_core", "ports", "multipliers_per_bank")


def _leaves(tree, prefix=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, prefix + (key,))
    else:
        yield prefix, tree


@lru_cache(maxsize=None)
def resource_fields(preset: str) -> tuple[str, ...]:
    """Dotted keys of the preset's resource amounts (clocks, bandwidths, buffer bytes, unit
    counts, lanes, cores, ports), plus `memories.M.channels` for channel scaling."""
    tree = runner.load(preset).model_dump(mode="python")
    keys = []
    for path, value in _leaves(tree):
        if path[0] == "energy" or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if path[:1] == ("units",) and path[-1] == "count" and \
                tree["units"][path[1]].get("kind") == "gpu":
            continue  # SMs at a fixed datasheet peak: see test_resources.py
        if path[-1] in RESOURCE_LEAVES or (path[0] == "memories" and path[-1] == "channels"):
            keys.append(".".join(path))
    return tuple(sorted(keys))


@lru_cache(maxsize=None)
def preset_value(preset: str, key: str):
    node = runner.load(preset).model_dump(mode="python")
    for part in key.split("."):
        node = node[part]
    return node


def scaled(preset: str, key: str, factor: float) -> tuple[str, ...]:
    """The `--set` overrides that scale one resource by `factor` (integers rounded, >= 1).
    Channels scale together with the memory's bandwidth: a channel brings its own bandwidth."""
    value = preset_value(preset, key)
    new = max(1, round(value * factor)) if isinstance(value, int) else value * factor
    sets = (f"{key}={new!r}",)
    if key.endswith(".channels"):
        bw_key = key.rsplit(".", 1)[0] + ".bandwidth_bytes_per_s"
        sets += (f"{bw_key}={preset_value(preset, bw_key) * new / value!r}",)
    return sets


FACTORS = st.sampled_from((0.25, 0.5, 2.0, 4.0))


@st.composite
def perturbed_target(draw, preset=None):
    """(preset, overrides): a preset with 0-2 of its resources scaled by x0.25 .. x4."""
    preset = preset or draw(st.sampled_from(PRESETS))
    keys = resource_fields(preset)
    chosen = draw(st.lists(st.sampled_from(keys), max_size=2, unique=True))
    sets = ()
    for key in chosen:
        sets += scaled(preset, key, draw(FACTORS))
    return preset, sets


def _divisors(n, limit):
    return [d for d in range(1, limit + 1) if n % d == 0]


@st.composite
def hf_config(draw, family=None):
    """A small random Hugging Face config.json of one supported family."""
    family = family or draw(st.sampled_from(FAMILIES))
    heads = draw(st.sampled_from((2, 4, 8)))
    head_dim = draw(st.sampled_from((8, 16)))
    hidden = heads * head_dim
    kv = draw(st.sampled_from(_divisors(heads, heads))) if family == "gqa" else heads
    layers = draw(st.integers(1, 2))
    inter = draw(st.sampled_from((32, 64, 128, 192)))
    vocab = draw(st.sampled_from((128, 256, 512)))
    base = {"hidden_size": hidden, "num_attention_heads": heads, "num_hidden_layers": layers,
            "intermediate_size": inter, "vocab_size": vocab, "max_position_embeddings": 4096}
    if family in ("dense", "gqa"):
        return {**base, "model_type": "llama", "num_key_value_heads": kv}
    if family == "qwen2":
        return {**base, "model_type": "qwen2", "num_key_value_heads": kv}
    if family == "gemma":
        return {**base, "model_type": "gemma", "num_key_value_heads": kv, "head_dim": head_dim}
    if family == "moe":
        experts = draw(st.sampled_from((2, 4, 8)))
        return {**base, "model_type": "mixtral", "num_key_value_heads": kv,
                "num_local_experts": experts,
                "num_experts_per_tok": draw(st.integers(1, min(2, experts)))}
    if family == "mla":
        experts = draw(st.sampled_from((2, 4)))
        return {**base, "model_type": "deepseek_v2", "num_key_value_heads": heads,
                "kv_lora_rank": draw(st.sampled_from((16, 32))), "qk_nope_head_dim": head_dim,
                "qk_rope_head_dim": 8, "v_head_dim": head_dim, "q_lora_rank": None,
                "n_routed_experts": experts, "num_experts_per_tok": draw(st.integers(1, 2)),
                "moe_intermediate_size": draw(st.sampled_from((16, 32))),
                "n_shared_experts": draw(st.integers(0, 1)),
                "first_k_dense_replace": draw(st.integers(0, layers))}
    if family == "opt":
        return {"model_type": "opt", "hidden_size": hidden, "num_attention_heads": heads,
                "num_hidden_layers": layers, "ffn_dim": inter, "vocab_size": vocab,
                "word_embed_proj_dim": hidden, "max_position_embeddings": 4096}
    if family == "phi":
        return {**base, "model_type": "phi", "partial_rotary_factor": 0.5}
    if family == "gpt2":
        return {"model_type": "gpt2", "n_embd": hidden, "n_head": heads, "n_layer": layers,
                "n_inner": inter, "vocab_size": vocab, "n_positions": 4096}
    return {**base, "model_type": "gpt_neox", "rotary_pct": 0.25}


@st.composite
def model(draw, allow_full=True):
    """(model name or config path, layers or None). Full-size zoo models run one layer."""
    choices = ["tiny", "random"] + (["full"] if allow_full else [])
    kind = draw(st.sampled_from(choices))
    if kind == "tiny":
        return draw(st.sampled_from(TINY_ZOO)), None
    if kind == "full":
        return draw(st.sampled_from(FULL_ZOO)), 1
    return runner.model_path(draw(hf_config())), None


@st.composite
def workload(draw, phase=None, target=None):
    """Sorted (field, value) pairs of a Workload (hashable, for the runner's cache)."""
    phase = phase or draw(st.sampled_from(("prefill", "decode", "generate")))
    batch = 1 if (phase in ("prefill", "generate") and target == "mllm-npu-sd8gen3") else \
        draw(st.sampled_from((1, 2, 3, 4, 8)))
    fields = {"phase": phase, "batch": batch,
              "seq": draw(st.sampled_from((8, 16, 32, 64, 100, 128))),
              "context": draw(st.sampled_from((0, 16, 64, 100, 256, 512))),
              "gen": draw(st.sampled_from((2, 4, 8))),
              "quant": draw(st.sampled_from(QUANTS)),
              "kv_bits": draw(st.sampled_from((16, 8, 4)))}
    return tuple(sorted(fields.items()))


def with_fields(workload_pairs: tuple, **changes) -> tuple:
    fields = dict(workload_pairs)
    fields.update(changes)
    return tuple(sorted((k, v) for k, v in fields.items() if v is not None))


class Point:
    """One draw: a model, a target with its `--set` overrides, and a workload."""

    def __init__(self, model_name: str, layers, preset: str, overrides: tuple, workload: tuple):
        self.model, self.layers, self.preset = model_name, layers, preset
        self.overrides, self.workload = overrides, with_fields(workload, layers=layers)

    def __repr__(self) -> str:
        return (f"Point(model={self.model!r}, preset={self.preset!r}, "
                f"overrides={self.overrides!r}, workload={dict(self.workload)!r})")

    @property
    def fields(self) -> dict:
        return dict(self.workload)

    def run(self, overrides: tuple = (), **changes):
        """The simulate result with extra `--set` overrides and workload changes."""
        return runner.simulate(self.model, self.preset, self.overrides + tuple(overrides),
                               with_fields(self.workload, **changes))

    def with_workload(self, **changes) -> "Point":
        layers = changes.pop("layers", self.layers)
        return Point(self.model, layers, self.preset, self.overrides,
                     with_fields(self.workload, **changes))

    def roofline(self, **changes):
        return runner.roofline(self.model, self.preset, self.overrides,
                               with_fields(self.workload, **changes))


@st.composite
def points(draw, phases=("prefill", "decode", "generate"), perturb=True, presets=PRESETS,
           allow_full=True):
    preset = draw(st.sampled_from(presets))
    _, overrides = draw(perturbed_target(preset)) if perturb else (preset, ())
    name, layers = draw(model(allow_full=allow_full))
    return Point(name, layers, preset, overrides,
                 draw(workload(phase=draw(st.sampled_from(phases)), target=preset)))
