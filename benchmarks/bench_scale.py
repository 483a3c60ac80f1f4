"""The cycle tier at scale (issue #15). Prints figures and ratios; asserts nothing.

Each row runs in its own Python process (so peak RSS is that row's alone) and reports the CPU
time of that process (time.process_time: user + system, one core; the machine this runs on is
shared, so wall time would measure the neighbours) and its peak resident set (ru_maxrss).
Figures are compared with the previous commit's, stored beside this file in
bench_scale_figures.json (`--save` replaces the rows this run measured, each stored with its commit and load average).

Run: python benchmarks/bench_scale.py [--rows a,b] [--heavy] [--save]
  --heavy also runs the rows measured in minutes (Qwen 8K prefill on the mobile NPU, LLaMA2-7B
  32K and 128K prefill on h100).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
FIGURES = HERE / "bench_scale_figures.json"
# capacity raised (as the figures were taken): GPT3-175B's weights do not fit 40 GB, and
# an 8K prefill's activations, summed over the layers until off-chip space is reused by
# liveness (compiler/passes/allocate.py), need 318 GB
RAISED_HBM = "memories.hbm.capacity_bytes=1e12"


def _simulate(model, target, overrides=(), **workload):
    """CPU time of one simulate call, after a warm-up on tiny-llama (imports, numba load)."""
    import hwsim
    hwsim.simulate("tiny-llama", target, overrides=overrides, **{**workload, "seq": 16})
    start = time.process_time()
    r = hwsim.simulate(model, target, overrides=overrides, **workload).to_dict()
    return {"instructions": sum(r["instructions"].values()), "seconds": r["seconds"],
            "cpu_s": time.process_time() - start,
            "reuse": (r.get("reuse") or {}).get("layers_reused")}


def _kernel():
    import hwsim
    best = None
    for _ in range(5):  # milliseconds: the best of five
        t = time.process_time()
        r = hwsim.kernel("gemm", "256,4096,4096", "neupims", dtype="fp16",
                         overrides=("units.systolic.count=1",)).to_dict()
        best = min(best or 1e9, time.process_time() - t)
    return {"instructions": sum(r["instructions"].values()), "cpu_s": best}


def _papers():
    from hwsim.api import papers
    rows = papers()
    return {"claims": len(rows), "values": {r["id"]: r.get("simulated") for r in rows}}


def _first_run():
    """`hwsim simulate` in a fresh process after install: the numba cache empty, then filled by
    the install step `python -m hwsim.jit_warm` (README), whose CPU time is reported apart."""
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    child_cpu = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                 "stdout=subprocess.DEVNULL); u = resource.getrusage(resource.RUSAGE_CHILDREN);"
                 " print(u.ru_utime + u.ru_stime, u.ru_maxrss)")
    simulate = [sys.executable, "-m", "hwsim.cli.main", "simulate", "tiny-llama", "-t",
                "flightllm-u280", "--json"]
    facts = {}

    def cpu_of(name, cmd):
        out = subprocess.run([sys.executable, "-c", child_cpu, *cmd], env=env, text=True,
                             capture_output=True, check=True).stdout.split()
        facts[name], facts["rss_mb"] = float(out[0]), int(out[1]) / 1024

    with tempfile.TemporaryDirectory() as cache:
        env["XDG_CACHE_HOME"] = cache
        cpu_of("cold_cpu_s", simulate)  # no install step: numba compiles in the first run
        shutil.rmtree(os.path.join(cache, "hwsim"))
        cpu_of("install_warm_cpu_s", [sys.executable, "-m", "hwsim.jit_warm"])
        cpu_of("cpu_s", simulate)
    return facts


# name -> (goal CPU s, goal peak MB or None, what runs, heavy)
ROWS = {
    "decode_u280": (0.1, None, lambda: _simulate("llama2-7b", "flightllm-u280", phase="decode",
                                                 context=512), False),
    "prefill8k_a100": (3.0, 300, lambda: _simulate("llama2-7b", "a100", (RAISED_HBM,),
                                                   phase="prefill", seq=8192), False),
    "prefill8k_mobile": (10.0, 500, lambda: _simulate("qwen1.5-1.8b", "mllm-npu-sd8gen3",
                                                      phase="prefill", seq=8192), True),
    # heavy since off-chip activations are reused by liveness: it fits now, and ran over 5 min
    # wall at 13 GB resident on the 24 GB machine before it was stopped (it was a refusal)
    "prefill32k_h100": (10.0, None, lambda: _simulate("llama2-7b", "h100", phase="prefill",
                                                      seq=32768), True),
    # capacity raised: at 128K the fp16 KV cache alone is 68.7 GB (2 x 32 layers x 4096 x 131072
    # x 2 B); with the weights (13.5 GB) and the live activations (11.9 GB) it needs 94.1 GB,
    # and an h100 holds 80 GiB (85.9 GB): refused without it, rightly
    "prefill128k_h100": (40.0, None, lambda: _simulate("llama2-7b", "h100", (RAISED_HBM,),
                                                       phase="prefill", seq=131072), True),
    "gpt3_decode_a100": (1.0, None, lambda: _simulate("gpt3-175b", "a100", (RAISED_HBM,),
                                                      phase="decode", context=512), False),
    "kernel_gemm": (0.001, None, _kernel, False),
    "first_run": (2.0, None, _first_run, False),
    "papers": (15.0, None, _papers, False),
}


def run_row(name: str) -> None:
    """In the child: run one row, print {cpu_s, rss_mb, ...} as JSON."""
    start = time.process_time()
    try:
        facts = ROWS[name][2]()
    except Exception as error:  # a refusal is a figure too
        facts = {"error": str(error).splitlines()[0][:160]}
    facts.setdefault("cpu_s", time.process_time() - start)
    facts.setdefault("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(facts))


def measure(name: str, timeout_s: float) -> dict:
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", name]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"skipped: over {timeout_s:.0f} s wall"}
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:160]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=ROOT)
    return out.stdout.strip() or "?"


def report(name: str, facts: dict, before: dict) -> str:
    goal_s, goal_mb, _, _ = ROWS[name]
    if "error" in facts:
        return f"{name:18s} {facts['error']}"
    ratio = ""
    if before.get("cpu_s") and "error" not in before:
        ratio = f"  x{facts['cpu_s'] / before['cpu_s']:.2f} CPU vs {before['cpu_s']:.3f} s"
    met = facts["cpu_s"] <= goal_s and (goal_mb is None or facts["rss_mb"] <= goal_mb)
    extra = f" {facts['instructions']:,} instr" if "instructions" in facts else ""
    if "cold_cpu_s" in facts:
        extra += (f" (after `python -m hwsim.jit_warm` at install, {facts['install_warm_cpu_s']:.1f}"
                  f" s; without it {facts['cold_cpu_s']:.2f} s)")
    if facts.get("reuse"):
        extra += f", {facts['reuse']} layers reused"
    mem = f" (goal < {goal_mb} MB)" if goal_mb else ""
    return (f"{name:18s} {facts['cpu_s']:9.3f} s CPU (goal {goal_s:g} s) "
            f"{facts['rss_mb']:7.0f} MB peak{mem}{extra} {'MET' if met else 'unmet'}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--rows", default="")
    parser.add_argument("--heavy", action="store_true")
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--timeout-s", type=float, default=1800)
    args = parser.parse_args()
    if args.child:
        return run_row(args.child)
    names = args.rows.split(",") if args.rows else [n for n, r in ROWS.items()
                                                    if args.heavy or not r[3]]
    stored = json.loads(FIGURES.read_text()) if FIGURES.exists() else {"rows": {}}
    print(f"commit {_commit()}; previous figures: commit {stored.get('commit', 'none')}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    figures = dict(stored["rows"])
    commit, load = _commit(), round(os.getloadavg()[0], 1)
    for name in names:
        facts = measure(name, args.timeout_s)
        before = stored["rows"].get(name, {})
        print(report(name, facts, before) + f" [previous: {before.get('commit', '?')}]",
              flush=True)
        if "error" not in facts or name not in figures:
            # each row keeps the commit and load it was measured at: a --save of some rows
            # leaves the others' provenance as it was
            figures[name] = {**facts, "commit": commit, "load_average": load}
    if args.save:
        FIGURES.write_text(json.dumps({"commit": commit, "rows": figures}, indent=1,
                                      sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
