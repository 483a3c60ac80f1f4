"""A cache for command output that depends only on files shipped with the package (`hwsim
targets` validates every preset: ~0.2 s of pydantic and YAML for a table that changes only when
a preset or the targets package changes; `hwsim models` parses the zoo's index and configs). The key is a hash of those files, so an edit gives a
fresh entry; HWSIM_NO_CACHE=1 turns it off. A cache that cannot be read or written is skipped."""
from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile


def _key(name: str, roots: list[pathlib.Path], patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256(name.encode())
    for root in roots:
        paths = [root] if root.is_file() else \
            sorted(p for pattern in patterns for p in root.glob(pattern))
        for path in paths:
            data = path.read_bytes()
            digest.update(path.name.encode() + b"\0")
            digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:16]


def _cache_dir() -> pathlib.Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return pathlib.Path(base) / "hwsim" / "listings"


def package_roots(*packages: str) -> list[pathlib.Path]:
    """The directories of our packages (found without importing them)."""
    import importlib.util
    return [pathlib.Path(importlib.util.find_spec(p).origin).parent for p in packages]


def cached_text(name: str, roots: list[pathlib.Path], make) -> str:
    """make() -> text, cached under a hash of `roots`: files, and every .py, .yaml and .json
    file below directories."""
    if os.environ.get("HWSIM_NO_CACHE"):
        return make()
    path = _cache_dir() / f"{name}-{_key(name, roots, ('**/*.py', '**/*.yaml', '**/*.json'))}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    text = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass
    return text
