"""Compile-time benchmark (issue: compiler). Prints figures; asserts nothing.

Goal: compiling LLaMA2-7B decode for flightllm-u280 takes under 5 s on one core.
Also prints the length-adaptive instruction-storage saving up to a maximum length.
Run: python benchmarks/bench_compile.py [--max-len 2048]
"""
from __future__ import annotations

import argparse
import statistics
import time

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.length_adaptive import length_adaptive_report
from compiler.pipeline import compile_model

CASES = [("llama2-7b", "flightllm-u280", dict(phase="decode", context=512)),
         ("llama2-7b", "flightllm-u280", dict(phase="prefill", seq=128)),
         ("llama2-7b", "a100", dict(phase="decode", context=512)),
         ("qwen1.5-1.8b", "mllm-npu-sd8gen3", dict(phase="prefill", seq=256)),
         ("llama2-7b", "neupims", dict(phase="decode", batch=8, context=256))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-len", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'model':14} {'target':18} {'workload':28} {'instructions':>12} {'compile s':>10}")
    for name, target_name, kw in CASES:
        model, target = load_model(name), targets.load_target(target_name)
        times, n = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            n = len(compile_model(model, Workload(**kw), target).program)
            times.append(time.perf_counter() - start)
        text = ",".join(f"{k}={v}" for k, v in kw.items())
        print(f"{name:14} {target_name:18} {text:28} {n:12,} {statistics.median(times):10.3f}")
    start = time.perf_counter()
    report = length_adaptive_report(load_model("llama2-7b"), Workload(quant="w4a8"),
                                    targets.load_target("flightllm-u280"), args.max_len, 16)
    print(f"\nlength-adaptive decode, llama2-7b on flightllm-u280, lengths 1..{args.max_len}, "
          f"buckets of 16 ({time.perf_counter() - start:.1f} s to measure):")
    print(f"  instruction storage: {report.naive_instruction_bytes / 1e6:,.1f} MB per-length vs "
          f"{report.adaptive_instruction_bytes / 1e6:,.2f} MB bucketed = "
          f"{report.storage_reduction:.0f}x less")
    print(f"  compile time (one-layer compiles x layers): {report.naive_compile_s:,.1f} s vs "
          f"{report.adaptive_compile_s:,.2f} s = {report.compile_time_reduction:.0f}x less")


if __name__ == "__main__":
    main()
