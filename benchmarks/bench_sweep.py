"""Sweep throughput (issue: sweeps). Prints figures; asserts nothing.

Goal: >= 50,000 roofline-tier points per minute on 2 cores (LLaMA2-7B decode on flightllm-u280,
every point a different clock x HBM bandwidth). Also prints cycle-tier points per minute for
LLaMA2-7B decode (full instruction detail) and for the 2-layer tiny-llama.
Wall time covers the whole `hwsim sweep` job: spec check, pool start, rows fsync'd, final sort.
CPU time (this process + its worker processes) per point gives the rate the same job reaches
on idle cores, which is the figure to compare when the machine is shared (see the load line).
Run: python benchmarks/bench_sweep.py [--workers 2] [--roofline-points 10000]
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time

import yaml

from compiler.frontend import load_model
from hwsim.sweep import run_sweep


def spec(tier: str, model: str, points: int) -> dict:
    side = max(1, math.isqrt(points))
    return {"tier": tier, "models": [model], "targets": ["flightllm-u280"],
            "workloads": [{"phase": "decode", "context": 512}],
            "axes": {"clocks.core.freq_hz": {"from": 1.5e8, "to": 3.0e8, "num": side},
                     "memories.hbm.bandwidth_bytes_per_s": {"from": 2.0e11, "to": 8.0e11,
                                                            "num": max(1, points // side)}}}


def measure(folder: str, name: str, body: dict, workers: int, dask: str | None = None):
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(body, handle)
    cpu = _cpu_s()
    s = run_sweep(path, os.path.join(folder, f"{name}.csv"), check_model=load_model,
                  workers=workers, dask=dask, progress=False)
    return s, s.points / s.seconds * 60, (_cpu_s() - cpu) / s.points


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (pool workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--roofline-points", type=int, default=10_000)
    parser.add_argument("--cycle-points", type=int, default=12)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        cases = [("roofline", "llama2-7b", args.roofline_points),
                 ("cycle", "llama2-7b", args.cycle_points),
                 ("cycle", "tiny-llama", 100)]
        for tier, model, n in cases:
            s, rate, cpu = measure(folder, f"{tier}-{model}", spec(tier, model, n),
                                   args.workers)
            goal = " (goal >= 50,000)" if tier == "roofline" else ""
            print(f"{tier:8} tier, {model} decode on flightllm-u280: {s.points:,} points in "
                  f"{s.seconds:.2f} s on {args.workers} workers = {rate:,.0f} points/min{goal}"
                  f"; {s.errors} errors; CPU {cpu * 1e3:.2f} ms/point -> "
                  f"{args.workers * 60 / cpu:,.0f} points/min on {args.workers} idle cores")
        s, rate, _ = measure(folder, "roofline-dask", spec("roofline", "llama2-7b", 2000), 2,
                             dask=f"local:{args.workers}")
        print(f"roofline tier on --dask local:{args.workers}: {s.points:,} points in "
              f"{s.seconds:.2f} s = {rate:,.0f} points/min (includes starting the cluster)")


if __name__ == "__main__":
    main()
