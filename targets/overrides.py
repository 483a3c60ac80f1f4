"""`dotted.key=value` overrides, applied to a target's full field tree before re-validation."""
from __future__ import annotations

import copy

from targets import safe_yaml
from targets.errors import TargetError


MAX_OVERRIDE_CHARS = 4096


def parse_override(text: str) -> tuple[list[str], object]:
    """'units.mpe.cores=4' -> (['units', 'mpe', 'cores'], 4)."""
    if len(text) > MAX_OVERRIDE_CHARS:
        raise TargetError(f"--set of {len(text)} characters; the limit is {MAX_OVERRIDE_CHARS}")
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise TargetError(f"--set {text!r}: expected dotted.key=value")
    parts = key.strip().split(".")
    if any(not p for p in parts):
        raise TargetError(f"--set {text!r}: empty name in {key!r}")
    return parts, _scalar(value.strip())


def _scalar(value: str):
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    try:
        return safe_yaml.load(value, "--set value") if value else ""
    except TargetError:  # not YAML (or past its limits): the text itself, which validation
        return value     # then accepts or refuses by the field's type


def apply_overrides(tree: dict, overrides, target_name: str) -> dict:
    """Return a copy of `tree` with each override set; every key on the path must already exist."""
    tree = copy.deepcopy(tree)
    for text in overrides:
        parts, value = parse_override(text)
        node = tree
        for depth, part in enumerate(parts):
            where = ".".join(parts[:depth]) or "the target"
            if not isinstance(node, dict):
                raise TargetError(f"--set {text}: {where} is not a group of fields in target "
                                  f"{target_name}")
            if part not in node:
                known = ", ".join(sorted(node))
                raise TargetError(f"--set {text}: unknown field {part!r} in {where} of target "
                                  f"{target_name} (fields: {known})")
            if depth == len(parts) - 1:
                if isinstance(node[part], dict):
                    raise TargetError(f"--set {text}: {'.'.join(parts)} is a group; set one of "
                                      f"its fields ({', '.join(sorted(node[part]))})")
                node[part] = value
            else:
                node = node[part]
    return tree
