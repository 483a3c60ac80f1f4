"""The Hugging Face config front end and the model zoo."""
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from compiler.errors import CompilerError
from compiler.frontend import (SUPPORTED_MODEL_TYPES, load_model, spec_from_hf_config, zoo_entry,
                               zoo_names)
from compiler.model import ModelSpec

ZOO = Path(str(resources.files("compiler") / "zoo"))


def zoo_config(name: str) -> dict:
    return json.loads((ZOO / zoo_entry(name)["file"]).read_text())


def write_config(tmp_path: Path, config: dict | str, model: str = "mymodel") -> Path:
    folder = tmp_path / model
    folder.mkdir()
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    return folder


# ------------------------------------------------------------------ the zoo itself

def test_zoo_lists_the_promised_models():
    expected = {"llama2-7b", "llama2-13b", "llama3-8b", "opt-6.7b", "qwen1.5-1.8b", "gemma-2b",
                "phi-2", "mistral-7b", "deepseek-v2-lite", "mixtral-8x7b", "gpt3-7b", "gpt3-13b",
                "gpt3-30b", "gpt3-175b", "tiny-llama", "tiny-opt", "tiny-mixtral",
                "tiny-deepseek-v2"}
    assert set(zoo_names()) == expected
    assert zoo_names() == sorted(zoo_names())


def test_index_and_files_agree():
    index = yaml.safe_load((ZOO / "index.yaml").read_text())["models"]
    listed = {entry["file"] for entry in index.values()}
    assert listed == {p.name for p in ZOO.glob("*.json")}
    for name, entry in index.items():
        assert set(entry) >= {"file", "hf_repo", "source", "reconstructed"}, name
        assert isinstance(entry["reconstructed"], bool), name
        assert entry["source"], name


@pytest.mark.parametrize("name", zoo_names())
def test_every_zoo_entry_loads(name):
    spec = load_model(name)
    assert isinstance(spec, ModelSpec)
    assert spec.name == name and spec.source.startswith(f"zoo:{name}")
    assert spec.family == zoo_config(name)["model_type"]
    assert spec.num_heads % spec.num_kv_heads == 0
    assert spec.checkpoint_dtype in {"fp16", "bf16", "fp32"}


def test_pyproject_ships_the_zoo():
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert 'compiler = ["zoo/*.json", "zoo/*.yaml"]' in pyproject.read_text()


# ------------------------------------------------------------------ hand-worked facts

def test_llama2_7b():
    s = load_model("llama2-7b")
    assert (s.hidden_size, s.num_layers, s.num_heads, s.num_kv_heads) == (4096, 32, 32, 32)
    assert (s.intermediate_size, s.vocab_size, s.head_dim) == (11008, 32000, 128)
    assert (s.norm, s.activation, s.gated_mlp, s.position) == ("rmsnorm", "silu", True, "rope")
    assert s.rope_theta == 10000.0 and s.max_position == 4096
    assert s.checkpoint_dtype == "fp16" and not s.tie_embeddings and s.kv_heads_ratio == 1


def test_llama2_13b():
    s = load_model("llama2-13b")
    assert (s.hidden_size, s.num_layers, s.num_heads, s.intermediate_size) == (5120, 40, 40, 13824)


def test_llama3_8b():
    s = load_model("llama3-8b")
    assert s.num_kv_heads == 8 and s.kv_heads_ratio == 4
    assert s.vocab_size == 128256 and s.rope_theta == 500000.0
    assert s.checkpoint_dtype == "bf16"


def test_mistral_7b():
    s = load_model("mistral-7b")
    assert (s.num_heads, s.num_kv_heads, s.intermediate_size) == (32, 8, 14336)
    assert s.extra["sliding_window"] == 4096


def test_qwen_biases_qkv_only():
    s = load_model("qwen1.5-1.8b")
    assert (s.hidden_size, s.num_layers, s.intermediate_size, s.vocab_size) == (2048, 24, 5504,
                                                                               151936)
    assert s.qkv_bias and not s.out_bias and s.rope_theta == 1e6


def test_gemma_2b():
    s = load_model("gemma-2b")
    assert s.head_dim == 256 and s.num_heads == 8 and s.num_kv_heads == 1
    assert s.hidden_size == 2048 and s.intermediate_size == 16384 and s.vocab_size == 256000
    assert s.embedding_scale and s.tie_embeddings and s.gated_mlp
    assert s.activation == "gelu_tanh" and s.extra["hidden_act"] == "gelu"


def test_phi_2():
    s = load_model("phi-2")
    assert s.rotary_fraction == 0.4 and s.parallel_block
    assert (s.norm, s.gated_mlp, s.activation) == ("layernorm", False, "gelu_tanh")
    assert s.qkv_bias and s.out_bias and s.head_dim == 80 and s.intermediate_size == 10240


def test_opt_6_7b():
    s = load_model("opt-6.7b")
    assert (s.norm, s.activation, s.gated_mlp, s.position) == ("layernorm", "relu", False,
                                                              "learned")
    assert s.intermediate_size == 16384 and s.vocab_size == 50272 and s.max_position == 2048
    assert s.qkv_bias and s.out_bias and s.tie_embeddings
    assert s.extra["pre_norm"] and s.extra["word_embed_proj_dim"] == 4096


def test_mixtral_8x7b():
    s = load_model("mixtral-8x7b")
    assert s.moe is not None and s.mla is None
    assert (s.moe.num_experts, s.moe.experts_per_token) == (8, 2)
    assert s.moe.expert_intermediate == 14336 and s.moe.shared_experts == 0
    assert s.num_kv_heads == 8 and s.rope_theta == 1e6


def test_deepseek_v2_lite():
    s = load_model("deepseek-v2-lite")
    assert s.mla is not None and s.moe is not None
    assert s.mla.kv_lora_rank == 512 and s.mla.qk_rope_head_dim == 64
    assert s.mla.qk_nope_head_dim == 128 and s.mla.v_head_dim == 128
    assert s.mla.q_lora_rank is None
    assert (s.moe.num_experts, s.moe.experts_per_token, s.moe.shared_experts) == (64, 6, 2)
    assert s.moe.first_dense_layers == 1 and s.moe.expert_intermediate == 1408
    assert s.moe.dense_intermediate == 10944 == s.intermediate_size
    assert (s.hidden_size, s.num_layers, s.num_heads, s.head_dim) == (2048, 27, 16, 192)
    assert s.extra["rope_scaling"]["type"] == "yarn"


def test_gpt3_sizes():
    big = load_model("gpt3-175b")
    assert (big.num_layers, big.hidden_size, big.num_heads) == (96, 12288, 96)
    assert big.intermediate_size == 4 * 12288 and big.vocab_size == 50257
    assert (big.position, big.norm, big.activation) == ("learned", "layernorm", "gelu_tanh")
    sizes = {n: load_model(f"gpt3-{n}") for n in ("7b", "13b", "30b")}
    assert [(s.hidden_size, s.num_heads, s.num_layers) for s in sizes.values()] == \
        [(4096, 32, 32), (5120, 40, 40), (7168, 56, 48)]


def test_tiny_models():
    llama, opt = load_model("tiny-llama"), load_model("tiny-opt")
    assert (llama.hidden_size, llama.num_layers, llama.num_heads, llama.num_kv_heads) == \
        (64, 2, 4, 2)
    assert llama.intermediate_size == 128 and llama.vocab_size == 256
    assert (opt.hidden_size, opt.num_heads, opt.intermediate_size, opt.vocab_size) == \
        (64, 4, 256, 256)
    mix = load_model("tiny-mixtral")
    assert (mix.moe.num_experts, mix.moe.experts_per_token) == (4, 2)
    ds = load_model("tiny-deepseek-v2")
    assert (ds.mla.kv_lora_rank, ds.mla.qk_rope_head_dim, ds.mla.qk_nope_head_dim,
            ds.mla.v_head_dim, ds.mla.q_lora_rank) == (16, 8, 16, 16, None)
    assert (ds.moe.num_experts, ds.moe.experts_per_token, ds.moe.shared_experts,
            ds.moe.first_dense_layers) == (4, 2, 1, 1)


# ------------------------------------------------------------------ families not in the zoo

def test_gpt2_n_inner_null_means_four_times_hidden():
    config = {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
              "n_positions": 1024, "vocab_size": 50257, "activation_function": "gelu_new"}
    s = spec_from_hf_config(config, "gpt2", "test")
    assert s.intermediate_size == 3072 and s.max_position == 1024 and s.tie_embeddings
    assert s.extra["checkpoint_dtype_assumed"] and s.checkpoint_dtype == "fp16"


def test_gpt_neox():
    config = {"model_type": "gpt_neox", "hidden_size": 512, "num_hidden_layers": 6,
              "num_attention_heads": 8, "intermediate_size": 2048, "vocab_size": 50304,
              "rotary_pct": 0.25, "rotary_emb_base": 10000, "use_parallel_residual": True,
              "hidden_act": "gelu", "torch_dtype": "float16", "max_position_embeddings": 2048}
    s = spec_from_hf_config(config, "pythia-70m", "test")
    assert s.rotary_fraction == 0.25 and s.parallel_block and s.norm == "layernorm"
    assert s.activation == "gelu" and s.head_dim == 64 and not s.gated_mlp


def test_load_by_path_file_and_directory(tmp_path):
    folder = write_config(tmp_path, zoo_config("tiny-llama"), model="my-llama")
    by_dir, by_file = load_model(str(folder)), load_model(str(folder / "config.json"))
    assert by_dir == by_file and by_dir.name == "my-llama"
    assert by_dir.source == str(folder / "config.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(zoo_config("tiny-opt")))
    assert load_model(str(other)).name == "other"


# ------------------------------------------------------------------ errors: one line each

def test_unknown_model_type(tmp_path):
    folder = write_config(tmp_path, {"model_type": "foo", "hidden_size": 8})
    with pytest.raises(CompilerError) as err:
        load_model(str(folder))
    assert str(err.value) == ("mymodel: unknown model_type 'foo' (supported: " +
                              ", ".join(SUPPORTED_MODEL_TYPES) + ")")
    assert SUPPORTED_MODEL_TYPES == ("deepseek_v2", "gemma", "gpt2", "gpt_neox", "llama",
                                     "mistral", "mixtral", "opt", "phi", "qwen2")


def test_missing_required_key(tmp_path):
    config = zoo_config("tiny-llama")
    del config["hidden_size"]
    folder = write_config(tmp_path, config)
    with pytest.raises(CompilerError) as err:
        load_model(str(folder))
    assert str(err.value) == "mymodel: config.json has no 'hidden_size' (model_type llama)"


def test_null_counts_as_missing_and_bad_types_are_named():
    config = zoo_config("tiny-deepseek-v2")
    config["kv_lora_rank"] = None
    with pytest.raises(CompilerError, match=r"^x: config.json has no 'kv_lora_rank' "
                                            r"\(model_type deepseek_v2\)$"):
        spec_from_hf_config(config, "x", "test")
    config = zoo_config("tiny-llama") | {"num_hidden_layers": "2"}
    with pytest.raises(CompilerError, match="'num_hidden_layers' must be an integer >= 1"):
        spec_from_hf_config(config, "x", "test")
    config = zoo_config("tiny-llama") | {"num_key_value_heads": 3}
    with pytest.raises(CompilerError, match="do not group evenly"):
        spec_from_hf_config(config, "x", "test")
    with pytest.raises(CompilerError, match="^x: config.json has no 'model_type'$"):
        spec_from_hf_config({"hidden_size": 4}, "x", "test")


def test_malformed_json(tmp_path):
    folder = write_config(tmp_path, '{"model_type": "llama",\n  "hidden_size": }')
    with pytest.raises(CompilerError) as err:
        load_model(str(folder))
    message = str(err.value)
    assert message.startswith(f"{folder / 'config.json'}: malformed JSON at line 2 column")
    assert "\n" not in message


def test_config_must_be_an_object(tmp_path):
    folder = write_config(tmp_path, "[1, 2]")
    with pytest.raises(CompilerError, match="^mymodel: config.json must hold a JSON object"):
        load_model(str(folder))


def test_unknown_zoo_name():
    with pytest.raises(CompilerError) as err:
        load_model("llama-9000")
    message = str(err.value)
    assert message.startswith("unknown model 'llama-9000'") and "\n" not in message
    assert all(name in message for name in zoo_names())


def test_directory_without_config(tmp_path):
    with pytest.raises(CompilerError, match="directory holds no config.json"):
        load_model(str(tmp_path))
