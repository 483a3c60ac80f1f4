"""Front ends: turn a model description into a `compiler.model.ModelSpec`.

The interface is just that: a front end is anything that returns a ModelSpec (raising a one-line
`CompilerError` when it cannot), and nothing downstream looks past the spec. Today there is one,
`hf_config` (a Hugging Face config.json), plus the zoo of such configs shipped with the package.
An ONNX front end would sit beside it as `onnx.py` with a `spec_from_onnx(path) -> ModelSpec`,
and `load_model` would hand `.onnx` paths to it.
"""
from compiler.frontend.hf_config import SUPPORTED_MODEL_TYPES, spec_from_hf_config
from compiler.frontend.zoo import load_model, zoo_entry, zoo_names

__all__ = ["SUPPORTED_MODEL_TYPES", "load_model", "spec_from_hf_config", "zoo_entry", "zoo_names"]
