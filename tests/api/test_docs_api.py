"""Every ```python block of docs/api.md runs, in order, in one namespace (as a notebook would)."""
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_page_has_the_walk_through():
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 8
    joined = "\n".join(blocks)
    for needle in ("hwsim.simulate(", "hwsim.frame(", "overrides=", "savefig("):
        assert needle in joined


def test_every_code_block_runs(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(python_blocks(DOC.read_text()), 1):
        try:
            exec(compile(block, f"docs/api.md block {number}", "exec"), namespace)
        except Exception as err:  # noqa: BLE001 -- report which block failed
            raise AssertionError(f"docs/api.md block {number} failed: {err!r}") from err
    assert (tmp_path / "batch_sweep.png").stat().st_size > 1000
