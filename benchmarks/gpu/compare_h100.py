"""Hold the `h100` preset against measured H100 throughput (benchmarks/gpu/h100_measured.json).

Runs `python -m hwsim simulate llama2-7b -t h100 ... --json` on the measured workloads and
prints measured vs simulated tokens/s with ratios (simulated / measured: > 1 means the
simulator is optimistic). The measurement is calibration data, never a fitted constant: see
docs/fidelity.md, "GPU calibration: H100 measured".

  python benchmarks/gpu/compare_h100.py [--only decode,batched,prefill] [--set key=value ...]
                                        [--json out.json]
A `--set` is passed to every simulation, e.g. the datasheet-peak preset:
  --set memories.hbm.achieved_bandwidth_fraction=1.0 --set units.sm.compute_efficiency_fraction=1.0
Takes a few minutes (about 3-40 s per simulation).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MEASURED = os.path.join(HERE, "h100_measured.json")
PATHS = ("hf_eager", "graph", "compiled")  # HF eager; lean + CUDA graph; + torch.compile


def load_measured(path: str = MEASURED) -> dict:
    with open(path) as fh:
        return json.load(fh)


def workloads(measured: dict, only: set[str]) -> list[dict]:
    """The measured workload points, each with the measured tokens/s of every path."""
    out = []
    for kind, key, args in (("decode", "decode", lambda r: ["--phase", "decode", "--batch", "1",
                                                            "--context", str(r["context"])]),
                            ("batched", "batched_decode",
                             lambda r: ["--phase", "decode", "--batch", str(r["batch"]),
                                        "--context", str(r["context"])]),
                            ("prefill", "prefill", lambda r: ["--phase", "prefill",
                                                              "--seq", str(r["seq"])])):
        if kind not in only:
            continue
        points = {}
        for path in PATHS:
            for row in measured.get(path, {}).get(key, []):
                label = (f"prefill seq {row['seq']}" if kind == "prefill" else
                         f"decode b{row['batch']} ctx {row['context']}")
                point = points.setdefault(label, {"kind": kind, "label": label,
                                                  "args": args(row), "measured": {}})
                point["measured"][path] = row["tokens_per_s"]
        out.extend(points.values())
    return out


def simulate(args: list[str], sets: list[str]) -> dict:
    cmd = [sys.executable, "-m", "hwsim", "simulate", "llama2-7b", "-t", "h100", "--json", *args]
    for s in sets:
        cmd += ["--set", s]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"compare_h100: {' '.join(cmd)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="decode,batched,prefill")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--json", help="write the comparison here")
    a = ap.parse_args()
    measured = load_measured()
    rows = []
    head = (f"{'workload':<22}{'sim tok/s':>11}{'bound':>8}" +
            "".join(f"{p + ' tok/s':>17}{'sim/meas':>9}" for p in PATHS))
    print(f"measured: {measured['provenance']['measured_on']}")
    print(head)
    for w in workloads(measured, set(a.only.split(","))):
        sim = simulate(w["args"], a.sets)
        tps = sim["tokens_per_s"]
        ratios = {p: round(tps / v, 3) for p, v in w["measured"].items()}
        rows.append({"workload": w["label"], "simulated_tokens_per_s": round(tps, 1),
                     "simulated_seconds": sim["seconds"], "bound": sim["bound"],
                     "measured_tokens_per_s": w["measured"],
                     "simulated_over_measured": ratios})
        cells = "".join(f"{w['measured'].get(p, float('nan')):>17.1f}"
                        f"{ratios.get(p, float('nan')):>9.2f}" for p in PATHS)
        print(f"{w['label']:<22}{tps:>11.1f}{sim['bound']:>8}{cells}", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"sets": a.sets, "rows": rows}, fh, indent=1, sort_keys=True)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
