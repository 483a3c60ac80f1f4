"""cocotb testbench of the ISA core (rtl_models/isa_core.v): reset, run until `done`, and report
what the core wrote: per-instruction start / end cycles (trace_*.hex) and the final off-chip
image (dram_out.hex). The program and the input image were written into the working directory
by rtl_models/program_cosim.py before the simulator started; this bench only observes."""
from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

TIMEOUT_CYCLES = 2_000_000


def _hex_lines(path: str) -> list[int]:
    values = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("//"):
                values.append(int(line, 16))
    return values


@cocotb.test()
async def run_program(dut):
    """Run the program to completion; write observations (HWSIM_COSIM_OUT)."""
    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    dut.rst.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    for _ in range(TIMEOUT_CYCLES):
        await RisingEdge(dut.clk)
        if dut.done.value.is_resolvable and int(dut.done.value) == 1:
            break
    else:
        raise AssertionError(f"the core did not finish in {TIMEOUT_CYCLES} cycles")
    for _ in range(3):   # the dump happens on the edge after `done`
        await RisingEdge(dut.clk)
    out = {"error": int(dut.error.value), "cycles_at_done": int(dut.now.value),
           "start": _hex_lines("trace_start.hex"), "end": _hex_lines("trace_end.hex"),
           "dram": bytes(_hex_lines("dram_out.hex")).hex()}
    with open(os.environ["HWSIM_COSIM_OUT"], "w") as f:
        json.dump(out, f)
