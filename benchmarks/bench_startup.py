"""Start-up time of the command line and of `import hwsim`, as whole processes.

Goals (issue 13): `hwsim --help`, `hwsim targets`, `hwsim models` each under 0.3 s; `import
hwsim` under 0.2 s. Prints, per case, the median wall time over --runs processes, the median CPU
time (user + system, which a loaded machine inflates far less than wall time), and the bare
interpreter (`python -c pass`) measured the same way and the wall time each case adds over it
(`+python s`), so a reader can tell a slow or loaded machine from a slow import. `hwsim models`
runs once first too. `hwsim targets` runs once first to fill its listing cache (hwsim/cli/listing_cache.py);
its first, uncached run is printed too. Also lists which heavy packages each case imported.
The cases run with an empty cache folder (XDG_CACHE_HOME); `import hwsim` is then measured once
more with yours, where it checks the numba cache files of this installation for torn ones
(hwsim/jit_cache.py).

    python benchmarks/bench_startup.py [--runs 7]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("numba", "numpy", "networkx", "pydantic", "compiler.pipeline", "targets.loader")
CASES = {"python -c pass": ["-c", "pass"],
         "import hwsim": ["-c", "import hwsim"],
         "hwsim --help": ["-m", "hwsim.cli.main", "--help"],
         "hwsim targets": ["-m", "hwsim.cli.main", "targets"],
         "hwsim models": ["-m", "hwsim.cli.main", "models"]}
GOALS_S = {"import hwsim": 0.2, "hwsim --help": 0.3, "hwsim targets": 0.3, "hwsim models": 0.3}


def run_once(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(args: list[str], env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", *args], env=env,
                         capture_output=True, text=True, check=True).stderr
    names = {line.rsplit("|", 1)[-1].strip() for line in out.splitlines() if "|" in line}
    return [h for h in HEAVY if h in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        first_wall, first_cpu = run_once(CASES["hwsim targets"], env)
        run_once(CASES["hwsim models"], env)
        print(f"{'case':<16} {'wall s':>8} {'cpu s':>8} {'+python s':>10} {'goal s':>7}"
              f"         heavy imports")
        bare = None
        for name, args in CASES.items():
            times = [run_once(args, env) for _ in range(runs)]
            wall = statistics.median(t[0] for t in times)
            cpu = statistics.median(t[1] for t in times)
            bare = wall if bare is None else bare
            goal = GOALS_S.get(name)
            verdict = "" if goal is None else ("  meets " if wall < goal else "  MISSES")
            print(f"{name:<16} {wall:8.3f} {cpu:8.3f} {wall - bare:10.3f} {goal or '':>7}"
                  f"{verdict:8} {', '.join(heavy_imports(args, env)) or '-'}")
        print(f"hwsim targets, first run (listing cache empty): wall {first_wall:.3f} s, "
              f"cpu {first_cpu:.3f} s")
    times = [run_once(CASES["import hwsim"], dict(os.environ)) for _ in range(runs)]
    print(f"import hwsim with your cache folder: wall "
          f"{statistics.median(t[0] for t in times):.3f} s, "
          f"cpu {statistics.median(t[1] for t in times):.3f} s")
    print(f"median of {runs} processes each; {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
