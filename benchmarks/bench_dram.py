"""DRAM model speed and achieved bandwidth. Prints figures; asserts nothing.

Two call paths: `DramModel.transfer` from Python (one call per transfer, as a script would), and
`dram_transfer` from a numba loop (as the timing engine calls it). Two patterns, each a run of
independent LDs all issued at time 0: streaming (contiguous 4 KiB tiles), random (4 KiB tiles of
64 rows x 64 B at random 64 B-aligned addresses, rows 4 KiB apart) and 64B (one random 64 B read
each, to show the per-call cost).
Run: python benchmarks/bench_dram.py [--transfers N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

import targets
from hwsim.memory import DramModel, dram_transfer

CASES = [("flightllm-u280", "hbm"), ("neupims", "hbm"), ("mllm-npu-sd8gen3", "lpddr"),
         ("a100", "hbm")]


@njit(cache=True)
def _loop(params, bank_state, chan_state, stats, addrs, rows, row_bytes, stride):
    end = 0.0
    for i in range(addrs.shape[0]):
        end = max(end, dram_transfer(params, bank_state, chan_state, stats, 0.0, addrs[i], rows,
                                     row_bytes, stride, False))
    return end


def _patterns(n, capacity, rng):
    tile = 4096
    stream = (np.arange(n, dtype=np.int64) * tile, 1, tile, 0)
    random_addrs = rng.integers(0, (capacity - 64 * tile) // 64, n, dtype=np.int64) * 64
    single = (rng.integers(0, capacity // 64, n, dtype=np.int64) * 64, 1, 64, 0)
    return {"stream": stream, "random": (random_addrs, 64, 64, tile), "64B": single}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=20000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    model = DramModel(targets.load_target("neupims").memories["hbm"])
    t0 = time.perf_counter()
    model.transfer(0.0, 0, 1, 64)
    print(f"first call (compile, or load from numba's cache): {time.perf_counter() - t0:.2f} s")
    _loop(*model.arrays(), np.zeros(1, np.int64), 1, 64, 0)
    print(f"{'memory':24} {'pattern':7} {'python transfers/s':>19} {'numba-loop transfers/s':>23} "
          f"{'bursts/s':>12} {'GB/s achieved':>14} {'row hits':>9}")
    for preset, name in CASES:
        memory = targets.load_target(preset).memories[name]
        for pattern, (addrs, rows, row_bytes, stride) in _patterns(
                args.transfers, memory.capacity_bytes, rng).items():
            model = DramModel(memory)
            t0 = time.perf_counter()
            for a in addrs.tolist():
                model.transfer(0.0, a, rows, row_bytes, stride)
            py_rate = len(addrs) / (time.perf_counter() - t0)
            model.reset()
            t0 = time.perf_counter()
            end = _loop(*model.arrays(), addrs, rows, row_bytes, stride)
            wall = time.perf_counter() - t0
            s = model.stats
            hit = s.row_hits / s.bursts if memory.timing else float("nan")
            print(f"{preset + '/' + name:24} {pattern:7} {py_rate:19,.0f} {len(addrs) / wall:23,.0f} "
                  f"{s.bursts / wall:12,.0f} {s.bytes_read / end / 1e9:14.1f} {hit:9.1%}")


if __name__ == "__main__":
    main()
