"""hwsim against the NeuPIMs authors' simulator: cycles of one GPT3-7B decoder layer (TP 4).

Reads the artifact's measured cycles from results.json (next to this file; how they were
obtained: README.md) and runs hwsim live on the same systems and requests
(hwsim.api.papers.neupims.step_seconds, 1 GHz NPU clock: cycles = layer seconds x 1e9).
Prints a table and the two claim ratios (NeuPIMs over NPU-only, NeuPIMs over naive NPU+PIM)
from both simulators. Asserts nothing.

    python benchmarks/neupims_artifact/compare.py            # live hwsim run (~10 s-2 min)
    python benchmarks/neupims_artifact/compare.py --stored   # hwsim numbers stored in results.json
    python benchmarks/neupims_artifact/compare.py --store    # live run, and store it in results.json
"""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess

RESULTS = pathlib.Path(__file__).with_name("results.json")
SYSTEMS = ("neupims", "naive", "npu_only")
CLOCK_HZ = 1e9  # the artifact's NPU clock (configs/systolic_ws_128x128_dev.json core_freq 1000 MHz)


def hwsim_layer_cycles(batches) -> dict[str, dict[str, float]]:
    """hwsim's cycles per decoder layer (one device's TP-4 share) for each system and batch."""
    from hwsim.api.papers import neupims
    from hwsim.api.papers.runner import Runner
    runner = Runner()
    return {s: {str(b): neupims.step_seconds(runner, s, int(b))["layer_s"] * CLOCK_HZ
                for b in batches} for s in SYSTEMS}


def _fmt(value) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(num, den) -> str:
    return "-" if num is None or den is None else f"{num / den:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", action="store_true",
                        help="use the hwsim cycles stored in results.json instead of running hwsim")
    parser.add_argument("--store", action="store_true",
                        help="write the live hwsim cycles (and the repo's commit) into results.json")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text())
    runs = results["artifact"]["runs"]
    batches = sorted({b for s in SYSTEMS for b in runs.get(s, {})}, key=int, reverse=True)
    hw = (results["hwsim"]["layer_cycles"] if args.stored else hwsim_layer_cycles(batches))
    source = "stored in results.json" if args.stored else "live run"
    if args.store and not args.stored:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=RESULTS.parent).stdout.strip()
        results["hwsim"] = {"commit": commit,
                            "layer_cycles": {s: {b: round(c, 1) for b, c in v.items()}
                                             for s, v in hw.items()},
                            "how": "hwsim.api.papers.neupims.step_seconds(Runner(), system, batch)"
                                   "['layer_s'] x 1e9 (T(2 layers) - T(1 layer), 1 GHz)"}
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")

    def art(system, batch):
        run = runs.get(system, {}).get(batch)
        return None if run is None or run.get("layer_cycles") is None else run["layer_cycles"]

    print(f"cycles per GPT3-7B decoder layer, one TP-4 device (hwsim: {source})")
    print(f"{'system':<10} {'batch':>5} {'artifact':>12} {'hwsim':>12} {'hwsim/artifact':>15}")
    for b in batches:
        for s in SYSTEMS:
            a, h = art(s, b), hw[s].get(b)
            print(f"{s:<10} {b:>5} {_fmt(a):>12} {_fmt(h):>12} {_ratio(h, a):>15}")
    print()
    print("claim ratios (per-layer speedup of NeuPIMs; paper: C5 2.4x, C6 1.6x)")
    print(f"{'batch':>5} {'C5 artifact':>12} {'C5 hwsim':>9} {'C6 artifact':>12} {'C6 hwsim':>9}")
    for b in batches:
        c5a = _ratio(art("npu_only", b), art("neupims", b))
        c6a = _ratio(art("naive", b), art("neupims", b))
        c5h = _ratio(hw["npu_only"].get(b), hw["neupims"].get(b))
        c6h = _ratio(hw["naive"].get(b), hw["neupims"].get(b))
        print(f"{b:>5} {c5a:>12} {c5h:>9} {c6a:>12} {c6h:>9}")
    for s in SYSTEMS:
        for b, run in sorted(runs.get(s, {}).items()):
            if run.get("note"):
                print(f"note {s} {b}: {run['note']}")


if __name__ == "__main__":
    main()
