"""Arrows point down: isa knows nobody; targets knows isa; compiler never imports hwsim;
hwsim imports compiler (and rtl_models, for `hwsim cosim`) only from its CLI/API layer."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"isa", "targets", "compiler", "hwsim", "rtl_models"}
ALLOWED = {"isa": set(), "targets": {"isa"}, "compiler": {"isa", "targets"},
           "hwsim": {"isa", "targets", "compiler", "rtl_models"},
           "rtl_models": {"isa", "hwsim", "targets"}}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_lies_below(package):
    for path in (ROOT / package).rglob("*.py"):
        used = imports_of(path) - {package}
        allowed = ALLOWED[package]
        if package == "hwsim" and not any(p in ("cli", "api") for p in path.parts):
            allowed = allowed - {"compiler", "rtl_models"}
        assert used <= allowed, f"{path.relative_to(ROOT)} imports {sorted(used - allowed)}"


def test_no_python_file_is_too_long_to_read():
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            assert len(path.read_text().splitlines()) <= 400, path
