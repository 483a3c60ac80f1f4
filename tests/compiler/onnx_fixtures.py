"""The four exporter-shaped test graphs, written once per session, each beside the zoo model
(a Hugging Face config.json) it is equivalent to."""
from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from tests.compiler.onnx_build import reference_weights
from tests.compiler.onnx_llama import llama_genai, llama_plain
from tests.compiler.onnx_opt import opt_plain

INT4_BLOCK = 32
# variant: (equivalent zoo model, builder, builder kwargs)
VARIANTS = {
    "llama-plain": ("tiny-llama", llama_plain, {}),
    "llama-genai": ("tiny-llama", llama_genai, {}),
    "llama-int4": ("tiny-llama", llama_genai, {"int4_block": INT4_BLOCK}),
    "opt-plain": ("tiny-opt", opt_plain, {}),
}


def build(variant: str) -> onnx.ModelProto:
    zoo, builder, kwargs = VARIANTS[variant]
    spec, _, store = reference_weights(zoo)
    return builder(spec, store, **kwargs)


@pytest.fixture(scope="session")
def onnx_files(tmp_path_factory) -> dict[str, Path]:
    """{variant: path}; each file is named after its zoo model so reports carry that name."""
    root = tmp_path_factory.mktemp("onnx")
    paths = {}
    for variant, (zoo, _, _) in VARIANTS.items():
        folder = root / variant
        folder.mkdir()
        paths[variant] = folder / f"{zoo}.onnx"
        onnx.save(build(variant), str(paths[variant]))
    return paths
