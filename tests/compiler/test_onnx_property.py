"""Property: for any small LLaMA-style or OPT-style shape, the exporter-shaped graphs read back
as the ModelSpec of the Hugging Face config they were written from."""
from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")  # the `onnx` extra (in the test extra)
from hypothesis import given, settings, strategies as st

from compiler.frontend import load_model, spec_from_hf_config
from tests.compiler.onnx_build import reference_weights
from tests.compiler.onnx_llama import llama_genai, llama_plain
from tests.compiler.onnx_opt import opt_fused, opt_plain


@st.composite
def llama_configs(draw):
    kv = draw(st.sampled_from([1, 2, 4]))
    heads = kv * draw(st.sampled_from([1, 2, 3]))
    head_dim = draw(st.sampled_from([8, 16, 32]))
    return {"model_type": "llama", "hidden_size": heads * head_dim,
            "num_attention_heads": heads, "num_key_value_heads": kv,
            "num_hidden_layers": draw(st.integers(1, 3)),
            "intermediate_size": draw(st.sampled_from([48, 96, 160])),
            "vocab_size": draw(st.sampled_from([64, 100, 300])),
            "max_position_embeddings": draw(st.sampled_from([64, 128])),
            "rms_norm_eps": draw(st.sampled_from([1e-5, 1e-6])),
            "rope_theta": draw(st.sampled_from([10000.0, 500000.0, 1000000.0])),
            "torch_dtype": "float32"}


@st.composite
def opt_configs(draw):
    heads = draw(st.sampled_from([1, 2, 4]))
    hidden = heads * draw(st.sampled_from([8, 16]))
    return {"model_type": "opt", "hidden_size": hidden, "num_attention_heads": heads,
            "num_hidden_layers": draw(st.integers(1, 3)),
            "ffn_dim": draw(st.sampled_from([32, 64, 96])),
            "vocab_size": draw(st.sampled_from([64, 100])),
            "max_position_embeddings": draw(st.sampled_from([32, 64])),
            "torch_dtype": "float32"}


def _round_trip(config: dict, builder) -> None:
    want = spec_from_hf_config(config, "m", "hypothesis")
    spec, _, store = reference_weights(want, seq=4)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.onnx"
        onnx.save(builder(spec, store), str(path))
        got = load_model(str(path))
    assert replace(got, source="hypothesis") == want


@pytest.mark.parametrize("builder", [llama_plain, llama_genai])
@settings(max_examples=8, deadline=None)
@given(config=llama_configs())
def test_llama_graphs_read_back_their_config(builder, config):
    _round_trip(config, builder)


@pytest.mark.parametrize("builder", [opt_plain, opt_fused])
@settings(max_examples=8, deadline=None)
@given(config=opt_configs())
def test_opt_graphs_read_back_their_config(builder, config):
    _round_trip(config, builder)
