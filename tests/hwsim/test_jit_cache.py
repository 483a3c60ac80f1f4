"""The numba cache directory follows the jitted sources (numba only watches the caller's file)."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

import hwsim
from hwsim.jit_cache import JITTED_SOURCES, cache_dir


def test_any_change_to_a_jitted_source_moves_the_cache():
    base = cache_dir([b"kernel v1", b"engine"], "/c")
    assert base.startswith("/c/") and len(os.path.basename(base)) == 16
    assert cache_dir([b"kernel v1", b"engine"], "/c") == base
    assert cache_dir([b"kernel v2", b"engine"], "/c") != base
    assert cache_dir([b"kernel v1", b"engine "], "/c") != base
    # the boundary between files counts: moving text from one file to the next is a change
    assert cache_dir([b"kernel v1e", b"ngine"], "/c") != base


def test_every_file_with_jitted_code_is_keyed():
    # the engine, the DRAM kernel and the closed form for streams it calls (an edit to any of
    # them must start a fresh cache): every hwsim file that compiles with numba
    root = pathlib.Path(hwsim.__file__).resolve().parent
    jitted = {str(f.relative_to(root)) for f in root.rglob("*.py") if re.search(r"^@njit", f.read_text(), re.M)}
    assert set(JITTED_SOURCES) == jitted == {"memory/kernel.py", "memory/stream.py",
                                             "timing/engine.py"}


def test_a_user_cache_dir_wins(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", "import hwsim, os, numba; "
                          "print(os.environ['NUMBA_CACHE_DIR'], numba.config.CACHE_DIR)"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == [str(tmp_path), str(tmp_path)]


def test_without_one_numba_uses_the_keyed_directory(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import hwsim, numba; "
                          "print(numba.config.CACHE_DIR)"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().startswith(str(tmp_path / "hwsim" / "numba"))


def test_only_this_installations_numba_folders_are_checked():
    """numba names a source folder's cache folder itself; ours must be the same names (else
    a corrupt file of ours would go unchecked)."""

    from numba.core.caching import _CacheLocator

    import hwsim.jit_cache as jit_cache
    root = pathlib.Path(jit_cache.__file__).resolve().parent
    expected = sorted({_CacheLocator.get_suitable_cache_subpath(str(root / f))
                       for f in JITTED_SOURCES})  # one per folder (memory/ holds two)
    assert jit_cache.numba_subfolders(root) == expected
    assert [name.split("_")[0] for name in expected] == ["memory", "timing"]


def test_a_torn_file_of_another_checkout_is_left_to_it(tmp_path, monkeypatch):
    """configure walks this installation's folders only: a file another checkout's folder
    holds is that checkout's to check (it is never loaded here)."""
    import hwsim.jit_cache as jit_cache
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if "numba" in sys.modules:  # configure points numba at the new directory: undo after
        config = sys.modules["numba"].config
        monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    root = __import__("pathlib").Path(jit_cache.__file__).resolve().parent
    keyed = jit_cache.cache_dir([(root / f).read_bytes() for f in JITTED_SOURCES],
                                str(tmp_path / "hwsim" / "numba"))
    ours = os.path.join(keyed, jit_cache.numba_subfolders(root)[0])
    other = os.path.join(keyed, "memory_" + "0" * 40)
    for folder in (ours, other):
        os.makedirs(folder)
        with open(os.path.join(folder, "k.1.nbc"), "wb") as handle:
            handle.write(b"\x80\x04torn")
    jit_cache.configure()
    assert not os.path.exists(os.path.join(ours, "k.1.nbc"))
    assert os.path.exists(os.path.join(other, "k.1.nbc"))


def _cache_files(folder):
    return sorted(p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc"))


def test_a_torn_cache_file_is_removed_with_a_one_line_notice(tmp_path, capsys):
    import pickle
    from hwsim.jit_cache import remove_corrupt_entries
    whole_index = pickle.dumps("0.68.1") + pickle.dumps(("stamp", {"key": "f.1.nbc"}))
    whole_data = pickle.dumps(("code", b"x" * 5000))
    (tmp_path / "f.nbi").write_bytes(whole_index)
    (tmp_path / "f.1.nbc").write_bytes(whole_data)
    (tmp_path / "g.nbi").write_bytes(whole_index[:-7])      # torn inside the second pickle
    (tmp_path / "g.1.nbc").write_bytes(whole_data[:100])    # torn inside the bytes
    (tmp_path / "h.1.nbc").write_bytes(b"")                 # empty
    (tmp_path / "notes.txt").write_bytes(b"not numba's")
    assert sorted(remove_corrupt_entries(str(tmp_path))) == ["g.1.nbc", "g.nbi", "h.1.nbc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.1.nbc", "f.nbi", "notes.txt"]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("hwsim: note: numba cache entry ") and
                                   line.endswith("was corrupt; removed it, the kernel is "
                                                 "compiled again") for line in lines)


@pytest.mark.slow
def test_a_run_after_truncating_every_cache_file_succeeds_and_rebuilds(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    run = [sys.executable, "-m", "hwsim", "kernel", "gemv", "--shape", "64,64", "-t", "neupims", "--dtype", "fp16",
           "--json"]
    first = subprocess.run(run, capture_output=True, text=True, env=env, check=True)
    files = _cache_files(tmp_path)
    assert files
    for path in files:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    second = subprocess.run(run, capture_output=True, text=True, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert len(second.stderr.splitlines()) == len(files)
    third = subprocess.run(run, capture_output=True, text=True, env=env, check=True)
    assert third.stderr == "" and third.stdout == first.stdout


@pytest.mark.slow
def test_after_jit_warm_the_first_simulation_compiles_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)  # an empty cache, as after install
    subprocess.run([sys.executable, "-m", "hwsim.jit_warm"], env=env, check=True,
                   capture_output=True)
    out = subprocess.run([sys.executable, "-c", "import hwsim\n"
                          "from hwsim.timing import engine\n"
                          "hwsim.simulate('tiny-llama', 'neupims', phase='prefill', seq=32)\n"
                          "s = engine._run.stats\n"
                          "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["1", "0"]  # loaded from the cache, not compiled
