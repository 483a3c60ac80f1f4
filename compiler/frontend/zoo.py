"""The model zoo and the one entry point that turns a model name or path into a ModelSpec.

The zoo is package data: `compiler/zoo/index.yaml` lists each model's config file and where that
config came from; the configs are Hugging Face `config.json` files.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from compiler.errors import CompilerError
from compiler.frontend.hf_config import spec_from_hf_config
from compiler.frontend.limits import MAX_CONFIG_CHARS, MAX_CONFIG_DEPTH
from compiler.model import ModelSpec
from isa import strict_json

_INDEX = "index.yaml"


def _zoo_dir():
    return resources.files("compiler") / "zoo"


@lru_cache(maxsize=1)
def _index() -> dict[str, dict]:
    try:
        data = yaml.safe_load((_zoo_dir() / _INDEX).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:  # a broken install, not a user error
        raise CompilerError(f"compiler/zoo/{_INDEX}: cannot read the zoo index: "
                            f"{' '.join(str(exc).split())}") from exc
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise CompilerError(f"compiler/zoo/{_INDEX}: has no 'models' mapping")
    return models


def zoo_names() -> list[str]:
    """Every model the zoo holds, sorted."""
    return sorted(_index())


def zoo_entry(name: str) -> dict:
    """A zoo model's index entry: file, hf_repo, source, reconstructed (and maybe note)."""
    if name not in _index():
        raise _unknown(name)
    return dict(_index()[name])


def load_model(name_or_path: str) -> ModelSpec:
    """A zoo name, or a path to a Hugging Face config.json or a directory holding one."""
    if name_or_path in _index():
        return _zoo_model(name_or_path)
    return _file_model(name_or_path)


@lru_cache(maxsize=None)
def _zoo_model(name_or_path: str) -> ModelSpec:
    """A zoo model, read once per process (the zoo ships with the code; ModelSpec is frozen)."""
    entry = _index()[name_or_path]
    label = f"compiler/zoo/{entry['file']}"
    try:
        text = (_zoo_dir() / entry["file"]).read_text(encoding="utf-8")
    except OSError as exc:
        raise CompilerError(f"{label}: cannot read: {exc.strerror or exc}") from exc
    repo = entry.get("hf_repo")
    source = f"zoo:{name_or_path}" + (f" (Hugging Face {repo})" if repo else "")
    return spec_from_hf_config(_parse_json(text, label), name_or_path, source)


def _file_model(name_or_path: str) -> ModelSpec:
    """A Hugging Face config.json (or a directory holding one), read on every call."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise CompilerError(f"{path}: directory holds no config.json")
        path = path / "config.json"
    if not path.is_file():
        raise _unknown(name_or_path)
    if path.suffix == ".onnx":
        from compiler.frontend.onnx import spec_from_onnx  # the optional `onnx` extra
        return spec_from_onnx(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CompilerError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CompilerError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    name = path.parent.name if path.name == "config.json" and path.parent.name else path.stem
    return spec_from_hf_config(_parse_json(text, str(path)), name, str(path))


def _parse_json(text: str, label: str) -> object:
    """Strict JSON within the config.json limits (compiler/frontend/limits.py): no NaN or
    Infinity, no duplicate keys, bounded size, nesting and integer length."""
    return strict_json.loads(text, label, error=CompilerError, max_chars=MAX_CONFIG_CHARS,
                             max_depth=MAX_CONFIG_DEPTH,
                             syntax="{what}: malformed JSON at line {line} column {column}: {msg}")


def _unknown(name: str) -> CompilerError:
    return CompilerError(f"unknown model {name!r}: not a zoo model and no such file or directory "
                         f"(zoo models: {', '.join(zoo_names())})")
