"""cocotb testbench for smoke_adder.v (run through cocotb_tools.runner, not collected by pytest)."""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

N_VECTORS = 200
SEED = 0x5EED


@cocotb.test()
async def random_vectors(dut):
    """200 seeded random (a, b): sum == (a + b) & 0xff one rising edge after driving."""
    rng = random.Random(SEED)
    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    for i in range(N_VECTORS):
        a, b = rng.randrange(256), rng.randrange(256)
        await FallingEdge(dut.clk)  # drive away from the sampling edge
        dut.a.value = a
        dut.b.value = b
        await RisingEdge(dut.clk)  # DUT registers a + b here
        await ReadOnly()
        got = int(dut.sum.value)
        assert got == (a + b) & 0xFF, f"vector {i}: {a} + {b} -> {got}, expected {(a + b) & 0xFF}"
