"""The ONNX front end on exporter-shaped graphs: the graphs are valid ONNX, onnxruntime runs them
to the numpy reference's logits, and the front end reads from them the ModelSpec the Hugging
Face config of the same model gives (so inspect's figures agree too)."""
from __future__ import annotations

import contextlib
import io
import json
from dataclasses import asdict, replace
from importlib import resources

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")  # the `onnx` extra (in the test extra)
from onnx import TensorProto, numpy_helper

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.reference.float_exec import FloatExecutor
from compiler.reference.weights import WeightStore
from hwsim.cli.main import main
from tests.compiler.onnx_build import quantize_nbits, reference_weights
from tests.compiler.onnx_llama import llama_genai
from tests.compiler.onnx_fixtures import (INT4_BLOCK, VARIANTS, build, hf_models,  # noqa: F401
                                         onnx_files)

SEQ = 8


def run_cli(*args) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("variant", VARIANTS)
def test_graph_passes_the_onnx_checker(variant):
    model = build(variant)
    # onnxruntime registers SimplifiedLayerNormalization in the ONNX domain, where the model
    # builder writes it; onnx's own schema registry does not know it, so the checker sees it
    # as the contrib op it is.
    for node in model.graph.node:
        if node.op_type == "SimplifiedLayerNormalization":
            node.domain = "com.microsoft"
    onnx.checker.check_model(model, full_check=True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_front_end_reads_the_hf_configs_spec(variant, onnx_files, hf_models):
    got, want = asdict(load_model(str(onnx_files[variant]))), asdict(load_model(hf_models[variant]))
    assert got.pop("source") == str(onnx_files[variant])
    want.pop("source")
    got_extra, want_extra = got.pop("extra"), want.pop("extra")
    got_quant, want_quant = got_extra.get("weight_quant"), want_extra.get("weight_quant")
    if variant == "llama-plain-4.45":  # RoPE angles computed at run time: no table rows
        assert got.pop("max_position") == 2048 and got_extra["max_position_assumed"] is True
        want.pop("max_position")
    else:
        assert "max_position_assumed" not in got_extra
    assert got == want
    if want_quant is None:
        assert got_quant is None
    else:
        assert (got_quant["bits"], got_quant["group_size"]) == (4, INT4_BLOCK)
        assert (want_quant["bits"], want_quant["group_size"]) == (4, INT4_BLOCK)


def test_matmulnbits_block_size_becomes_the_weight_quantization(onnx_files):
    spec = load_model(str(onnx_files["llama-int4"]))
    assert spec.extra["weight_quant"] == {"bits": 4, "group_size": INT4_BLOCK,
                                          "format": "MatMulNBits"}
    assert "weight_quant" not in load_model(str(onnx_files["llama-genai"])).extra
    assert spec.extra["onnx"]["fused_ops"] == ["GroupQueryAttention", "MatMulNBits",
                                               "RotaryEmbedding",
                                               "SkipSimplifiedLayerNormalization"]


@pytest.mark.parametrize("theta", [10000.0, 500000.0, 1000000.0])
def test_fp16_weights_give_an_fp16_checkpoint(theta, tmp_path):
    """The genai builder's fp16 graph (fp16 weights and cos/sin caches) reads as the HF config
    with torch_dtype float16; theta comes back exactly from fp16 tables too."""
    spec, _, store = reference_weights("tiny-llama")
    model = llama_genai(replace(spec, rope_theta=theta), store)
    for init in model.graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            half = numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(numpy_helper.from_array(half, init.name))
    path = tmp_path / "tiny-llama.onnx"
    onnx.save(model, str(path))
    got = load_model(str(path))
    assert got.checkpoint_dtype == "fp16" and got.rope_theta == theta
    config = json.loads((resources.files("compiler") / "zoo" / "tiny-llama.json").read_text())
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**config, "torch_dtype": "float16",
                                                    "rope_theta": theta}))
    want = load_model(str(folder))
    assert replace(got, source=want.source) == want


def test_weights_in_external_data_read_as_inline_ones(tmp_path, onnx_files):
    """Models over 2 GB keep their weights beside the graph (onnx external data)."""
    path = tmp_path / "tiny-llama.onnx"
    onnx.save(build("opt-plain"), str(path), save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    assert (tmp_path / "weights.bin").stat().st_size > 100_000
    got, want = load_model(str(path)), load_model(str(onnx_files["opt-plain"]))
    assert replace(got, source=want.source, name=want.name) == want
    assert got.tie_embeddings  # the tie is found from the two tables' values
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(CompilerError, match=r"tiny-llama.onnx: initializer '.*': cannot read "
                                            r"its external data"):
        load_model(str(path))


@pytest.mark.parametrize("variant", VARIANTS)
def test_inspect_matches_the_hf_config(variant, onnx_files, hf_models):
    got = run_cli("inspect", str(onnx_files[variant]), "--json")
    want = run_cli("inspect", hf_models[variant], "--json")
    assert got["parameters"] == want["parameters"]
    assert got["kv_cache_bytes_per_token"] == want["kv_cache_bytes_per_token"]
    for phase in ("prefill", "decode"):
        assert got[phase]["flops_per_token"] == want[phase]["flops_per_token"]
        assert got[phase]["bytes_per_token"] == want[phase]["bytes_per_token"]


class _Dequantized(WeightStore):
    """The reference's weights with every decoder linear layer replaced by its 4-bit
    MatMulNBits round trip (the lm_head too: the model builder quantizes it as well)."""

    def weight(self, name):
        w = super().weight(name)
        if self.graph.op(name).attrs.get("role") is None:
            return w
        return quantize_nbits(w, INT4_BLOCK)[2]


def _ort_logits(path, ids: np.ndarray, spec) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids[None], "attention_mask": np.ones((1, ids.size), np.int64)}
    names = {i.name for i in session.get_inputs()}
    if "position_ids" in names:
        feeds["position_ids"] = np.arange(ids.size, dtype=np.int64)[None]
    for name in names:
        if name.startswith("past_key_values"):
            feeds[name] = np.zeros((1, spec.num_kv_heads, 0, spec.head_dim), np.float32)
    return session.run(["logits"], feeds)[0][0, -1]


@pytest.mark.parametrize("variant", VARIANTS)
def test_onnxruntime_matches_the_numpy_reference(variant, onnx_files):
    zoo = VARIANTS[variant][0]
    spec, graph, store = reference_weights(zoo, seq=SEQ)
    ids = np.random.default_rng(7).integers(0, spec.vocab_size, SEQ).astype(np.int64)
    if variant == "llama-int4":
        store = _Dequantized(graph)
    want = FloatExecutor(graph, ids, weights=store).run()["lm_head"][0]
    got = _ort_logits(onnx_files[variant], ids, spec)
    assert got.shape == (spec.vocab_size,)
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-4 * scale)
    # the comparison can fail: other tokens give other logits at this tolerance
    assert not np.allclose(got, FloatExecutor(graph, ids[::-1].copy(), weights=store)
                           .run()["lm_head"][0], atol=2e-4 * scale)
