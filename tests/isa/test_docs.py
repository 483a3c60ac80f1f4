from pathlib import Path

from isa import docgen


def test_isa_doc_is_generated_from_the_tables():
    text = (Path(__file__).parents[2] / "docs" / "isa.md").read_text()
    assert text == docgen.render(), "docs/isa.md is stale: run python -m isa.docgen > docs/isa.md"
