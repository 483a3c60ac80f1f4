"""The numba cache directory follows the jitted sources (numba only watches the caller's file)."""
import os
import subprocess
import sys

import pytest

from hwsim.jit_cache import JITTED_SOURCES, cache_dir


def test_any_change_to_a_jitted_source_moves_the_cache():
    base = cache_dir([b"kernel v1", b"engine"], "/c")
    assert base.startswith("/c/") and len(os.path.basename(base)) == 16
    assert cache_dir([b"kernel v1", b"engine"], "/c") == base
    assert cache_dir([b"kernel v2", b"engine"], "/c") != base
    assert cache_dir([b"kernel v1", b"engine "], "/c") != base
    # the boundary between files counts: moving text from one file to the next is a change
    assert cache_dir([b"kernel v1e", b"ngine"], "/c") != base


def test_the_engine_and_the_kernel_are_both_keyed():
    assert set(JITTED_SOURCES) == {"memory/kernel.py", "timing/engine.py"}


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
