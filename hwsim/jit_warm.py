"""Build the numba cache ahead of the first simulation: `python -m hwsim.jit_warm`.

The timing engine's loop and the DRAM kernel it inlines are compiled by numba the first time
they run (about 3 s of CPU time), then loaded from the on-disk cache (hwsim.jit_cache) in every
later process. Run once after installing (README: Install), this module compiles them by timing
a two-instruction program, so the first `hwsim simulate` after install loads them like any
later run. The argument types are the ones hwsim.timing.engine.run always passes (it converts
every array to a fixed dtype), so one compile serves every program and preset.
"""
from __future__ import annotations

import time

import hwsim  # noqa: F401  (configures the cache directory first)
import isa
import targets
from hwsim.simulate import simulate_program

PRESET = "flightllm-u280"


def warm_program(target_name: str) -> isa.Program:
    """A load into the first buffer, then a store of it: both go through the DRAM kernel."""
    load = isa.Instruction("LOAD", release=["ST"], buf=0, dtype="int8", rows=2, row_bytes=64)
    store = isa.Instruction("STORE", wait=["LD"], buf=0, dtype="int8", rows=2, row_bytes=64,
                            dram_addr=4096)
    return isa.Program.from_instructions(target_name, [load, store])


def warm() -> float:
    """Compile (or load) the jitted kernels; -> CPU seconds it took."""
    start = time.process_time()
    simulate_program(warm_program(PRESET), targets.load_target(PRESET), 1)
    return time.process_time() - start


if __name__ == "__main__":
    print(f"hwsim: numba kernels ready ({warm():.1f} s CPU)")
