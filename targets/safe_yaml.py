"""YAML with limits: the one reader of target files (and sweep specs).

`yaml.safe_load` alone lets a broken or hostile file through in four ways: nesting 500+ deep
raises RecursionError, an integer of 4,301+ digits raises ValueError, a duplicate key silently
replaces the first, and aliases can multiply a small file into a huge tree. `load` refuses each
with a TargetError line naming the limit: the file is checked event by event (the parser is not
recursive) before any tree is built.
"""
from __future__ import annotations

import yaml

from targets.errors import TargetError

MAX_YAML_BYTES = 2**20       # 1 MiB; the largest preset is 12 KiB
MAX_YAML_DEPTH = 32          # presets nest 5 deep
MAX_YAML_NODES = 100_000     # scalars, mappings and sequences together
MAX_SCALAR_CHARS = 4096      # no number or name of a target needs more


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {str(key)[:60]!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(text: str, label: str):
    """Parse YAML `text` (from `label`, for messages) within the limits above."""
    if len(text) > MAX_YAML_BYTES:
        raise TargetError(f"{label}: {len(text)} characters; a YAML file may hold at most "
                          f"{MAX_YAML_BYTES}")
    try:
        _check_events(text, label)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 -- a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise TargetError(f"{label}:{where}: YAML syntax error: {problem}") from None
    except TargetError:
        raise
    except (ValueError, RecursionError, OverflowError) as err:
        raise TargetError(f"{label}: unreadable YAML value ({str(err).splitlines()[0][:80]})") \
            from None


def _check_events(text: str, label: str) -> None:
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise TargetError(f"{label}: nesting deeper than {MAX_YAML_DEPTH} levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            raise TargetError(f"{label}: YAML aliases (*name) are not supported; write the "
                              "value out")
        elif isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR_CHARS:
            raise TargetError(f"{label}: a value of {len(event.value)} characters; the limit "
                              f"is {MAX_SCALAR_CHARS}")
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise TargetError(f"{label}: more than {MAX_YAML_NODES} YAML nodes")
