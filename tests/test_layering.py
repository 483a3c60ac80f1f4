"""Arrows point down: isa knows nobody; targets knows isa; compiler never imports hwsim; the
simulator core (hwsim/ outside hwsim/api and hwsim/cli) never imports the compiler; the API
layer (hwsim/api) is the one place that combines compiler and simulator; the command line
(hwsim/cli) parses arguments, calls hwsim.api and formats output, and never imports the
compiler itself."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"isa", "targets", "compiler", "hwsim", "rtl_models"}
ALLOWED = {"isa": set(), "targets": {"isa"}, "compiler": {"isa", "targets"},
           "hwsim": {"isa", "targets", "compiler", "rtl_models"},
           "rtl_models": {"isa", "hwsim", "targets"}}
# hwsim sub-layers, by the folder under hwsim/: what each may import of ours
CLI_MAY_IMPORT = {"isa", "targets", "hwsim", "rtl_models"}         # no compiler
CORE_MAY_IMPORT = {"isa", "targets", "hwsim"}                     # no compiler, no rtl_models
# the sweep runner evaluates points through the API's flows (in worker processes)
CORE_MAY_USE_API = {"sweep"}


def imports_of(path: Path, top_only: bool = True) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    if top_only:
        return {name.split(".")[0] for name in found} & OURS
    return found


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "hwsim").parts
    return parts[0] if parts[0] in ("api", "cli") and len(parts) > 1 else "core"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_lies_below(package):
    for path in (ROOT / package).rglob("*.py"):
        used = imports_of(path) - {package}
        allowed = ALLOWED[package]
        if package == "hwsim":
            layer = layer_of(path)
            allowed = {"cli": CLI_MAY_IMPORT, "core": CORE_MAY_IMPORT}.get(layer, allowed)
        assert used <= allowed, f"{path.relative_to(ROOT)} imports {sorted(used - allowed)}"


def test_simulator_core_never_reaches_the_api_or_the_cli():
    """The core may not get at the compiler through the layers above it either."""
    for path in (ROOT / "hwsim").rglob("*.py"):
        first = path.relative_to(ROOT / "hwsim").parts[0]
        if layer_of(path) != "core" or first in CORE_MAY_USE_API or first == "__main__.py":
            continue    # __main__.py is `python -m hwsim`: the command line's entry point
        above = {m for m in imports_of(path, top_only=False)
                 if m.startswith(("hwsim.api", "hwsim.cli"))}
        assert not above, f"{path.relative_to(ROOT)} imports {sorted(above)}"


def test_cli_reaches_the_compiler_only_through_the_api():
    """hwsim/cli imports hwsim.api (and formatting helpers), never compiler modules."""
    for path in (ROOT / "hwsim" / "cli").rglob("*.py"):
        assert "compiler" not in imports_of(path), path.relative_to(ROOT)


def test_no_python_file_is_too_long_to_read():
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            assert len(path.read_text().splitlines()) <= 400, path


def test_api_never_imports_the_cli():
    """The CLI is a shell over the API, not the other way round."""
    for path in (ROOT / "hwsim" / "api").rglob("*.py"):
        above = {m for m in imports_of(path, top_only=False) if m.startswith("hwsim.cli")}
        assert not above, f"{path.relative_to(ROOT)} imports {sorted(above)}"
