"""Where numba keeps compiled kernels: a directory named after the jitted sources.

Numba's on-disk cache (`@njit(cache=True)`) is invalidated only when the decorated function's
own file changes. The timing engine's loop calls the DRAM kernel in another file, so an edit to
hwsim/memory/kernel.py left the engine running the previously compiled kernel, with different
results, until its cache files were deleted. Keying the cache directory by a hash of every file
with jitted code makes any edit start a fresh cache. A NUMBA_CACHE_DIR set by the user wins.

Numba unpickles its cache files without a check: one truncated file (a full disk, a killed
write on a filesystem without atomic rename) made every later run fail with UnpicklingError
until the cache was deleted by hand. `configure` walks the opcodes of every cache file in the
keyed directory that this installation's sources use (pickletools, nothing is executed; about
1 ms) and removes any file that is not whole, with a one-line notice on stderr: numba then
compiles that kernel afresh and rewrites it. Numba files each source folder's kernels under
`<folder name>_<sha1 of the folder's absolute path>`, so checkouts of identical sources at
other paths (git worktrees, several virtual environments) share the keyed directory; only this
installation's folders are walked (with 14 checkouts beside each other, walking all of them
took 38 ms of every `import hwsim`).
"""
from __future__ import annotations

import hashlib
import io
import os
import pathlib
import pickletools
import sys

# relative to the hwsim package
JITTED_SOURCES = ("memory/kernel.py", "memory/stream.py", "timing/engine.py")


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
    for folder in numba_subfolders(root):
        remove_corrupt_entries(os.path.join(path, folder))
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its config was read, set it directly
        numba.config.CACHE_DIR = path
    os.environ["NUMBA_CACHE_DIR"] = path  # and for numba imported later, and subprocesses


def numba_subfolders(root: pathlib.Path) -> list[str]:
    """The folders under the cache directory where numba keeps the kernels of the jitted
    sources below `root` (numba.core.caching._CacheLocator.get_suitable_cache_subpath:
    the source folder's name, `_`, the SHA-1 of its absolute path)."""
    folders = sorted({os.path.dirname(os.path.abspath(root / f)) for f in JITTED_SOURCES})
    return [f"{os.path.basename(d)}_{hashlib.sha1(d.encode()).hexdigest()}" for d in folders]


# numba's cache files: an index (.nbi) is two pickles (numba's version, then the index), a
# data file (.nbc) one
_PICKLES_PER_FILE = {".nbi": 2, ".nbc": 1}


def remove_corrupt_entries(path: str) -> list[str]:
    """Delete the cache files under `path` that are not whole pickles; returns their names."""
    removed = []
    for root, _, files in os.walk(path):
        for name in files:
            expected = _PICKLES_PER_FILE.get(os.path.splitext(name)[1])
            file = os.path.join(root, name)
            if expected is None or _whole_pickles(file) == expected:
                continue
            try:
                os.unlink(file)
            except FileNotFoundError:  # another process removed it first
                continue
            removed.append(name)
            print(f"hwsim: note: numba cache entry {file} was corrupt; removed it, the kernel "
                  "is compiled again", file=sys.stderr)
    return removed


def _whole_pickles(file: str) -> int:
    """How many complete pickles the file holds end to end (-1: torn or unreadable)."""
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError:
        return -1
    stream, count = io.BytesIO(data), 0
    try:
        while stream.tell() < len(data):
            for _ in pickletools.genops(stream):
                pass
            count += 1
    except Exception:  # noqa: BLE001 -- any malformed opcode stream is corruption
        return -1
    return count
