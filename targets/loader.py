"""Find, read and validate targets: preset names or YAML paths, with `--set` overrides."""
from __future__ import annotations

import copy
import functools
import os
import re
import threading
from importlib import resources
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from targets import safe_yaml
from targets.errors import TargetError
from targets.frozen import forget_fingerprint, freeze, remember_fingerprint
from targets.overrides import apply_overrides
from targets.target import FAMILIES, AnyTarget, Target
from targets.units import AnyUnit

_ADAPTER = TypeAdapter(AnyTarget)
_PRESET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_PATH_CHARS = 4096
_UNIT_KINDS = {m.model_fields["kind"].annotation.__args__[0] for m in AnyUnit.__origin__.__args__}


@functools.lru_cache(maxsize=1)
def preset_dir() -> Path:
    """The built-in presets' folder (importlib.resources: about 0.1 ms, asked once)."""
    return Path(str(resources.files("targets") / "presets"))


def preset_names() -> list[str]:
    """Built-in preset names, sorted."""
    return sorted(p.stem for p in preset_dir().glob("*.yaml"))


def load_target(name_or_path: str, overrides=()) -> Target:
    """A preset name or a YAML path -> validated Target, with `dotted.key=value` overrides applied.

    The target is deeply immutable (targets/frozen.py) and shared: a file's text with the same
    overrides gives the same object again, without reading YAML or validating (an edited file
    is a new text, so never served stale). Raises TargetError with one line naming the file,
    the field and the problem.
    """
    path = _resolve(name_or_path)
    return _loaded(read_text(path), str(path), tuple(overrides))


_TARGETS: dict = {}  # (file text, overrides) -> frozen Target; a failure is never cached
_TARGETS_MAX = 64
_TARGETS_LOCK = threading.Lock()


def _loaded(text: str, label: str, overrides: tuple) -> Target:
    try:
        key = (text, overrides)
        hash(key)
    except TypeError:  # an override that is not text: refused by apply_overrides, uncached
        key = None
    target = _TARGETS.get(key) if key is not None else None
    if target is not None:
        return target
    if overrides:
        base = _loaded(text, label, ())
        target = validate(apply_overrides(base.model_dump(mode="python"), overrides, base.name),
                          f"{base.name} with --set")
    else:
        target = validate(_mapping(_parse(text, label), label), label)
    freeze(target)
    if key is None:
        return target
    remember_fingerprint(target, target.fingerprint())
    with _TARGETS_LOCK:
        kept = _TARGETS.setdefault(key, target)  # a thread that got there first wins
        while len(_TARGETS) > _TARGETS_MAX:
            forget_fingerprint(_TARGETS.pop(next(iter(_TARGETS))))
    if kept is not target:
        forget_fingerprint(target)
    return kept


def _resolve(name_or_path: str) -> Path:
    if not isinstance(name_or_path, str) or not name_or_path or "\0" in name_or_path \
            or len(name_or_path) > MAX_PATH_CHARS:
        shown = repr(name_or_path) if len(str(name_or_path)) <= 60 else \
            f"of {len(name_or_path)} characters"
        raise TargetError(f"target name or path {shown} is not valid (a preset name or a YAML "
                          f"path of at most {MAX_PATH_CHARS} characters)")
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        path = Path(name_or_path)
        if not _is_file(path):
            raise TargetError(f"target file {name_or_path} does not exist")
        return path
    path = preset_dir() / f"{name_or_path}.yaml"
    if not _PRESET_NAME.fullmatch(name_or_path) or not _is_file(path):
        raise TargetError(f"unknown target {name_or_path!r} (built-in: {', '.join(preset_names())})")
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a component too long, a loop of links, ...
        return False


def read_text(path: Path) -> str:
    """A target file's text, refused past safe_yaml.MAX_YAML_BYTES."""
    try:
        with open(path, encoding="utf-8") as file:  # as Path.read_text; size from the open file
            size = os.fstat(file.fileno()).st_size
            if size > safe_yaml.MAX_YAML_BYTES:
                raise TargetError(f"{path}: {size} bytes; a target file may hold "
                                  f"at most {safe_yaml.MAX_YAML_BYTES}")
            return file.read()
    except (OSError, UnicodeDecodeError) as err:
        raise TargetError(f"cannot read target file {path}: {err}") from None


def read_yaml(path: Path) -> dict:
    return _mapping(_parse(read_text(path), str(path)), path)


def _mapping(raw, path) -> dict:
    if not isinstance(raw, dict):
        raise TargetError(f"{path}: a target file must hold a mapping, not {type(raw).__name__}")
    return raw


_PARSED: dict = {}  # YAML text -> its parse; presets are read again on every load_target
_PARSED_MAX = 32


def _parse(text: str, label: str):
    """safe_yaml.load(text) (limits, no duplicate keys), a fresh copy each call; the parse of a
    text seen before is reused (pure-Python YAML takes about 30 ms for a preset, most of a
    one-kernel simulation). A text that fails is never cached."""
    if text not in _PARSED:
        parsed = safe_yaml.load(text, label)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[text] = parsed
    return copy.deepcopy(_PARSED[text])


def validate(raw: dict, origin: str) -> Target:
    """Raw mapping -> Target; the first validation problem becomes one TargetError line."""
    if raw.get("family") not in FAMILIES:
        raise TargetError(f"{origin}: family {raw.get('family')!r} is not one of "
                          f"{', '.join(FAMILIES)}")
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as err:
        raise TargetError(f"{origin}: {describe(err.errors()[0])}") from None


def describe(error: dict) -> str:
    """One pydantic error -> 'field.path: problem (got value)'."""
    loc = [str(x) for x in error["loc"]]
    if loc and loc[0] in FAMILIES:
        loc = loc[1:]
    loc = [x for i, x in enumerate(loc) if not (i >= 2 and loc[i - 2] == "units" and x in _UNIT_KINDS)]
    path = ".".join(loc) or "<top>"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field {path!r}"
    if kind == "missing":
        return f"{path}: required field is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = error.get("input")
    if kind != "value_error" and not isinstance(value, (dict, list)):
        return f"{path}: {message} (got {value!r})"
    return f"{path}: {message}"
