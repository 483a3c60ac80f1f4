"""The four exporter-shaped test graphs, written once per session, each beside the zoo model
(a Hugging Face config.json) it is equivalent to."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import onnx
import pytest

from tests.compiler.onnx_build import reference_weights
from tests.compiler.onnx_llama import llama_genai, llama_plain
from tests.compiler.onnx_opt import opt_fused, opt_plain

INT4_BLOCK = 32
# variant: (equivalent zoo model, builder, builder kwargs)
VARIANTS = {
    "llama-plain": ("tiny-llama", llama_plain, {}),
    "llama-plain-4.45": ("tiny-llama", llama_plain, {"transformers": "4.45"}),
    "llama-genai": ("tiny-llama", llama_genai, {}),
    "llama-genai-packed": ("tiny-llama", llama_genai, {"packed": True}),
    "llama-int4": ("tiny-llama", llama_genai, {"int4_block": INT4_BLOCK}),
    "opt-plain": ("tiny-opt", opt_plain, {}),
    "opt-plain-opset14": ("tiny-opt", opt_plain, {"opset": 14}),
    "opt-fused": ("tiny-opt", opt_fused, {}),
}


# The Hugging Face equivalent of the 4-bit graph: tiny-llama's config with the GPTQ
# quantization_config a 4-bit checkpoint of group size INT4_BLOCK carries.
INT4_CONFIG = {"quant_method": "gptq", "bits": 4, "group_size": INT4_BLOCK, "sym": True,
               "desc_act": False}


def build(variant: str) -> onnx.ModelProto:
    zoo, builder, kwargs = VARIANTS[variant]
    spec, _, store = reference_weights(zoo)
    return builder(spec, store, **kwargs)


@pytest.fixture(scope="session")
def onnx_files(tmp_path_factory) -> dict[str, Path]:
    """{variant: path}; each is `<zoo model>/model.onnx`, as exporters name their output, so
    reports carry the zoo model's name (the folder's), as a config.json's folder does."""
    root = tmp_path_factory.mktemp("onnx")
    paths = {}
    for variant, (zoo, _, _) in VARIANTS.items():
        folder = root / variant / zoo
        folder.mkdir(parents=True)
        paths[variant] = folder / "model.onnx"
        onnx.save(build(variant), str(paths[variant]))
    return paths


@pytest.fixture(scope="session")
def hf_models(tmp_path_factory) -> dict[str, str]:
    """{variant: the equivalent model argument}: a zoo name, or a written config.json's
    folder (named after the zoo model) for the 4-bit graph."""
    models = {variant: zoo for variant, (zoo, _, _) in VARIANTS.items()}
    config = json.loads((resources.files("compiler") / "zoo" / "tiny-llama.json").read_text())
    folder = tmp_path_factory.mktemp("hf") / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**config,
                                                    "quantization_config": INT4_CONFIG}))
    models["llama-int4"] = str(folder)
    return models
