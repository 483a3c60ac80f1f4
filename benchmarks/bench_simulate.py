"""Simulator speed (issue: simulator). Prints figures and ratios; asserts nothing.

Goals: one LLaMA2-7B decode token on flightllm-u280 at full instruction detail <= 1 s on one
core; a 1,024-token generate <= 10 s; a whole-model roofline estimate in-process <= 1 ms
(GenZ, the analytical peer on PyPI, takes 40-60 ms per estimate).
Run: python benchmarks/bench_simulate.py
"""
from __future__ import annotations

import statistics
import time

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.api.flows.run_model import simulate_model
from hwsim.api.flows.roofline import roofline_report
from hwsim.simulate import simulate_program


def timed(fn, repeat=3):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    target = targets.load_target("flightllm-u280")
    model = load_model("llama2-7b")
    work = Workload(phase="decode", context=512)
    simulate_program(compile_model(load_model("tiny-llama"), work, target).program, target, 1)
    compile_s, compiled = timed(lambda: compile_model(model, work, target))
    sim_s, result = timed(lambda: simulate_program(compiled.program, target, 1))
    n = len(compiled.program)
    print(f"LLaMA2-7B decode token on flightllm-u280: {n:,} instructions; compile "
          f"{compile_s:.3f} s, simulate {sim_s:.3f} s ({n / sim_s:,.0f} instructions/s), "
          f"total {compile_s + sim_s:.3f} s (goal <= 1 s)")
    hbm = target.memories[target.main_memory]
    chunks = result["dram"]["bursts"] * hbm.burst_bytes / hbm.channel_interleave_bytes
    print(f"  its DRAM model: {result['dram']['bursts']:,} bursts, about {chunks:,.0f} "
          f"{hbm.channel_interleave_bytes}-B chunks: {sim_s / chunks * 1e9:.1f} ns of simulate "
          f"per chunk")
    gen = Workload(phase="generate", seq=128, gen=1024)
    gen_s, g = timed(lambda: simulate_model("llama2-7b", gen, target), repeat=1)
    print(f"1,024-token generate (prompt 128): {gen_s:.2f} s wall (goal <= 10 s); simulated "
          f"TTFT {g['ttft_s'] * 1e3:.1f} ms, TPOT {g['tpot_s'] * 1e3:.2f} ms")
    roof_s, roof = timed(lambda: roofline_report("llama2-7b", Workload(phase="decode"), target),
                         repeat=5)
    print(f"whole-model roofline estimate in-process: {roof_s * 1e3:.1f} ms (goal <= 1 ms; "
          f"GenZ 40-60 ms): {roof['roofline_s'] * 1e3:.2f} ms, {roof['bound']}-bound")
    big = targets.load_target("neupims")
    c = compile_model(model, Workload(phase="decode", batch=8, context=256), big)
    s, _ = timed(lambda: simulate_program(c.program, big, 8), repeat=1)
    print(f"LLaMA2-7B decode batch 8 on neupims: {len(c.program):,} instructions simulated in "
          f"{s:.2f} s ({len(c.program) / s:,.0f} instructions/s)")


if __name__ == "__main__":
    main()
