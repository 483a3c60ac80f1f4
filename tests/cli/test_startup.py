"""Start-up: `import hwsim`, `hwsim --help`, `hwsim targets` and `hwsim models` do not load the
JIT (numba) or the compiler's graph code; the figures are in benchmarks/bench_startup.py."""
import os
import subprocess
import sys

import pytest

CASES = {"import hwsim": (["-c", "import hwsim"], {"numba", "numpy", "pydantic", "networkx"}),
         "--help": (["-m", "hwsim.cli.main", "--help"], {"numba", "numpy", "pydantic", "networkx"}),
         "targets": (["-m", "hwsim.cli.main", "targets"], {"numba", "networkx", "numpy"}),
         "models": (["-m", "hwsim.cli.main", "models"], {"numba", "networkx", "pydantic"})}


def imported(args, tmp_path) -> set[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-X", "importtime", *args], env=env,
                         capture_output=True, text=True, check=True).stderr
    return {line.rsplit("|", 1)[-1].strip() for line in out.splitlines() if "|" in line}


@pytest.mark.parametrize("case", sorted(CASES))
def test_light_commands_do_not_import_the_jit_or_the_graph_code(case, tmp_path):
    args, banned = CASES[case]
    assert not (imported(args, tmp_path) & banned)


def test_hwsim_api_is_reachable_from_the_package():
    import hwsim
    from hwsim import api
    assert hwsim.simulate is api.simulate and hwsim.Result is api.Result


def test_api_names_win_over_same_named_simulator_modules():
    import hwsim
    from hwsim import api
    from hwsim.roofline import op_bounds          # noqa: F401 -- binds hwsim.roofline normally
    from hwsim.simulate import simulate_program   # noqa: F401
    assert hwsim.simulate is api.simulate and hwsim.roofline is api.roofline
