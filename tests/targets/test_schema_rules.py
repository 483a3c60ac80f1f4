"""Schema-wide rules: every numeric field names its unit; every part carries a source."""
import typing

import pytest

import targets
from targets import docgen
from targets.parts import COUNT_FIELDS, UNIT_SUFFIXES, Part


def _numeric(annotation) -> bool:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _numeric(args[0])
    if origin is dict:
        return _numeric(args[1])
    if origin is tuple:
        return _numeric(args[0])
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_numeric(a) for a in args)
    return annotation in (int, float)


def all_models():
    return [m for _, models in docgen.SECTIONS for m in models]


def test_every_numeric_field_has_a_unit_or_is_a_count():
    offenders = []
    for model in all_models():
        for name, info in model.model_fields.items():
            if _numeric(info.annotation) and not (name in COUNT_FIELDS
                                                  or name.endswith(UNIT_SUFFIXES)):
                offenders.append(f"{model.__name__}.{name}")
    assert offenders == []


def test_every_part_requires_a_source():
    for model in all_models():
        if issubclass(model, Part):
            assert model.model_fields["source"].is_required(), model.__name__


@pytest.mark.parametrize("name", targets.preset_names())
def test_every_source_in_every_preset_is_filled(name):
    def walk(node, path):
        if isinstance(node, dict):
            if "source" in node:
                assert len(node["source"].strip()) > 10, f"{name}: {path}.source is too short"
            for key, value in node.items():
                walk(value, f"{path}.{key}")
    walk(targets.load_target(name).model_dump(), name)


def test_schema_doc_is_generated_from_the_models():
    from pathlib import Path
    text = (Path(__file__).parents[2] / "docs" / "targets.md").read_text()
    assert docgen.render() in text, "docs/targets.md is stale: run python -m targets.docgen"
