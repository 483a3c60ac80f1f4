"""Read the artifact runs' logs (run.sh writes /tmp/neupims_art/runs/<name>/) into results.json.

    python benchmarks/neupims_artifact/collect.py [runs_dir]

What is read, per run: the stage lengths the artifact's Scheduler::print_stat logs at the end
("Stage X : N cycles"; main and npu+pim branches), or the last "Layer ... finish at N" of the
npu-only branch's one-layer program (its Scheduler has no stages); the per-operation rows of
SA_stage_*.tsv / PIM_stage_*.tsv, or npu-only's tmp_log_file.tsv (start, end cycle); wall.json (run.sh's wall time).
Per-layer cycles, as hwsim's step_seconds()["layer_s"] defines a layer (the marginal layer of a
multi-layer step):
- NeuPIMs (main, sub-batch on): stages A-F are two layers with pipeline fill (A, B) and drain
  (E, F): A QKV#1 | B QKV#2, MHA#1 | C Pj/FFN#1 + QKV#1', MHA#2 | D Pj/FFN#2 + QKV#2', MHA#1' |
  E Pj/FFN#1', MHA#2' | F Pj/FFN#2' (src/StageProgram.cc). The steady-state layer is C + D.
- naive (npu+pim, baseline_exp): one layer, stages A (QKV), B (MHA on PIM), E (Pj/FFN), serial.
- NPU-only: one layer (model_n_layer 1), the cycle its last operation finishes.
hwsim's numbers go into results.json through `compare.py --store` (a live hwsim run).
"""
from __future__ import annotations

import csv
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
RESULTS = HERE / "results.json"
ART = pathlib.Path("/tmp/neupims_art")
MIRROR = "/work/.mirror/casys-kaist+NeuPIMs/repo"
BRANCH = {"neupims": "main", "naive": "npu+pim", "npu_only": "npu-only"}
CONFIGS = {  # relative to the branch root, as brun.sh passes them
    "neupims": {"config": "configs/systolic_ws_128x128_dev.json",
                "mem_config": "configs/memory_configs/neupims.json",
                "model_config": "configs/model_configs/gpt3-7B.json",
                "sys_config": "configs/system_configs/sub-batch-on.json"},
    "naive": {"config": "configs/systolic_ws_128x128_dev.json",
              "mem_config": "configs/memory_configs/newton.json",
              "model_config": "configs/model_configs/gpt3-7B.json",
              "sys_config": "configs/system_configs/npupim.json"},
    "npu_only": {"config": "configs/systolic_ws_128x128_dev.json",
                 "mem_config": "configs/memory_configs/dram.json",
                 "model_config": "configs/model_configs/gpt3-7B.json",
                 "sys_config": "configs/system_configs/npu-fusion.json"},
}
# run name -> (system, batch, trace passed as --cli_config, what the trace is)
RUNS = {
    "neupims_512": ("neupims", 512, "request-traces/clb/share-gpt2-bs512-ms7B-tp4-clb-0.csv",
                    "the artifact's file as brun.sh passes it"),
    "neupims_256": ("neupims", 256, "traces/clb0-first256-clb.csv",
                    "first 256 of clb-0, channels re-balanced by trace-generator's algorithm"),
    "naive_512": ("naive", 512, "traces/clb0-first512-rr.csv",
                  "clb-0 lengths, ch_idx = i mod 32 (round robin, as hwsim's naive)"),
    "naive_256": ("naive", 256, "traces/clb0-first256-rr.csv",
                  "first 256 of clb-0, ch_idx = i mod 32"),
    "npu_only_512": ("npu_only", 512, "traces/clb0-first512.csv",
                     "clb-0 (ch_idx unused on npu-only)"),
    "npu_only_256": ("npu_only", 256, "traces/clb0-first256.csv",
                     "first 256 of clb-0 (ch_idx unused on npu-only)"),
}


def _commit(branch: str) -> str:
    return subprocess.run(["git", f"--git-dir={MIRROR}", "rev-parse", branch], check=True,
                          capture_output=True, text=True).stdout.strip()


def _ops(run_dir: pathlib.Path) -> dict:
    ops = {}
    for path in sorted(run_dir.glob("*_stage_*.tsv")) + sorted(run_dir.glob("tmp_log_file.tsv")):
        # main / npu+pim: <SA|PIM>_stage_<X>.tsv; npu-only: tmp_log_file.tsv (one program)
        platform, _, stage = path.stem.split("_") if "_stage_" in path.name else ("NPU", "", "layer")
        for row in csv.DictReader(path.open(), delimiter="\t"):
            if row.get("OpName"):
                ops[f"{stage}/{platform}/{row['OpName']}"] = [int(row["StartCycle"]),
                                                              int(row["EndCycle"])]
    return ops


def parse_run(run_dir: pathlib.Path, system: str) -> dict:
    log = (run_dir / "stdout.log").read_text(errors="replace")
    stages: dict[str, int] = {}
    for name, cycles in re.findall(r"Stage (\w) : (\d+) cycles", log):
        stages[name] = int(cycles)  # print_stat repeats the last stage once; same value
    finishes = [int(c) for c in re.findall(r"Layer \S+ finish at (\d+)", log)]
    wall = json.loads((run_dir / "wall.json").read_text()) if (run_dir / "wall.json").exists() else {}
    out = {"stage_cycles": stages or None, "wall_s": round(wall["wall_s"], 1) if wall else None,
           "rc": wall.get("rc"), "complete": bool(wall) and wall.get("rc") == 0}
    if system == "neupims":
        out["layer_cycles"] = stages["C"] + stages["D"] if {"C", "D"} <= stages.keys() else None
        out["two_layers_with_fill_and_drain_cycles"] = (sum(stages.values())
                                                        if set("ABCDEF") <= stages.keys() else None)
        out["layer_definition"] = "stages C + D (steady state; A-F = 2 layers with fill/drain)"
    elif system == "naive":
        out["layer_cycles"] = sum(stages.values()) if set("ABE") <= stages.keys() else None
        out["layer_definition"] = "stages A + B + E (QKV, MHA on PIM, Pj/FFN; serial)"
    else:
        out["layer_cycles"] = max(finishes) if out["complete"] and finishes else None
        out["layer_definition"] = "last operation's finish cycle of the one-layer program"
    out["operations"] = _ops(run_dir)
    return out


def main() -> None:
    runs_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ART / "runs"
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    art = results.setdefault("artifact", {})
    art["repository"] = "casys-kaist/NeuPIMs"
    art["commits"] = {b: _commit(b) for b in BRANCH.values()}
    art.setdefault("runs", {})
    for name, (system, batch, trace, note) in RUNS.items():
        run_dir = runs_dir / name
        if not (run_dir / "stdout.log").exists():
            continue
        run = {"branch": BRANCH[system], "commit": art["commits"][BRANCH[system]],
               **CONFIGS[system], "cli_config": trace, "trace_note": note, "batch": batch,
               **parse_run(run_dir, system)}
        art["runs"].setdefault(system, {})[str(batch)] = run
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
