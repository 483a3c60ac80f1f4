"""Where numba keeps compiled kernels: a directory named after the jitted sources.

Numba's on-disk cache (`@njit(cache=True)`) is invalidated only when the decorated function's
own file changes. The timing engine's loop calls the DRAM kernel in another file, so an edit to
hwsim/memory/kernel.py left the engine running the previously compiled kernel, with different
results, until its cache files were deleted. Keying the cache directory by a hash of every file
with jitted code makes any edit start a fresh cache. A NUMBA_CACHE_DIR set by the user wins.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import sys

JITTED_SOURCES = ("memory/kernel.py", "timing/engine.py")  # relative to the hwsim package


def cache_dir(sources: list[bytes], base: str) -> str:
    """`base`/<first 16 hex digits of the SHA-256 over the sources, in order>."""
    digest = hashlib.sha256()
    for text in sources:
        digest.update(len(text).to_bytes(8, "little"))
        digest.update(text)
    return os.path.join(base, digest.hexdigest()[:16])


def configure() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    root = pathlib.Path(__file__).resolve().parent
    base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "hwsim", "numba")
    path = cache_dir([(root / f).read_bytes() for f in JITTED_SOURCES], base)
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its config was read, set it directly
        numba.config.CACHE_DIR = path
    os.environ["NUMBA_CACHE_DIR"] = path  # and for numba imported later, and subprocesses
