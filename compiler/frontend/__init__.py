"""Front ends: turn a model description into a `compiler.model.ModelSpec`.

The interface is just that: a front end is anything that returns a ModelSpec (raising a one-line
`CompilerError` when it cannot), and nothing downstream looks past the spec. There are two:
`hf_config` (a Hugging Face config.json, plus the zoo of such configs shipped with the package)
and `onnx` (`spec_from_onnx(path)`: a decoder graph as exporters write it; needs the `onnx`
package, imported only when a .onnx file is read). `load_model` hands `.onnx` paths to it.
"""
from compiler.frontend.hf_config import SUPPORTED_MODEL_TYPES, spec_from_hf_config
from compiler.frontend.zoo import load_model, zoo_entry, zoo_names

__all__ = ["SUPPORTED_MODEL_TYPES", "load_model", "spec_from_hf_config", "spec_from_onnx",
           "zoo_entry", "zoo_names"]


def __getattr__(name: str):
    """`spec_from_onnx`, its five modules read on first use (a zoo or config.json model, what
    most runs load, needs none of them)."""
    if name == "spec_from_onnx":
        from compiler.frontend.onnx import spec_from_onnx
        return spec_from_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
