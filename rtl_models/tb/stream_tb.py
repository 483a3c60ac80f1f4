"""Generic streaming testbench: drives a list of jobs into a unit and records what comes out.

The parent process (rtl_models.cosim) writes the stimulus as JSON (HWSIM_COSIM_IN):
    idle:      {signal: value} driven on every cycle that carries no beat (valid lows);
    reset:     name of the active-high reset input (held for 2 cycles at the start);
    out_valid: name of the output-valid signal;  capture: output signals read when it is high;
    jobs:      [{"beats": [{signal: value, ...}, ...], "outputs": n,
                 "setup": [{signal: value, ...}, ...] (optional)}, ...]
Jobs run back to back: a job's first beat is driven in the cycle in which the previous job's
last output appears, so it is sampled on the next rising edge. A job's `setup` beats (e.g.
loading a PIM bank's DRAM array, which the model takes as resident) are driven first, one per
cycle from that same cycle on, and are not timed: the job's first beat follows the last one.

Observations (HWSIM_COSIM_OUT): per job, `cycles` = rising edges from the one that samples its
first beat to the one that registers its last output, inclusive (a single register stage is 1
cycle), and `outputs` = the captured values (unsigned ints) of each output beat.

Timing method: inputs are driven and outputs read at falling edges. A value driven at falling
edge c is sampled by rising edge c+1; an output read at falling edge c was registered by rising
edge c. So cycles = c_last_output - c_first_drive.
"""
from __future__ import annotations

import json
import os
import sys

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

TIMEOUT_CYCLES = 100_000
# Wide beats (a 16 Kibit PIM query vector) are JSON integers of ~5,000 digits.
sys.set_int_max_str_digits(0)


def _high(handle) -> bool:
    value = handle.value
    return value.is_resolvable and int(value) == 1


def _unsigned(handle) -> int:
    value = handle.value   # a LogicArray, or a Logic for a 1-bit signal
    return int(value.to_unsigned()) if hasattr(value, "to_unsigned") else int(value)


@cocotb.test()
async def stream(dut):
    """Drive every job of the stimulus file; write outputs and per-job cycles."""
    with open(os.environ["HWSIM_COSIM_IN"]) as f:
        stim = json.load(f)
    idle, jobs = stim["idle"], stim["jobs"]
    out_valid = getattr(dut, stim["out_valid"])
    capture = [getattr(dut, name) for name in stim["capture"]]
    handles = {name: getattr(dut, name) for name in idle}
    for job in jobs:
        for beat in job["beats"] + job.get("setup", []):
            for name in beat:
                if name not in handles:
                    handles[name] = getattr(dut, name)

    Clock(dut.clk, 10, unit="ns").start(start_high=False)
    reset = getattr(dut, stim["reset"])
    for name, value in idle.items():
        handles[name].value = value
    reset.value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    reset.value = 0
    await FallingEdge(dut.clk)

    observed = []
    cycle = 0
    for index, job in enumerate(jobs):
        beats, wanted = job["beats"], job["outputs"]
        for beat in job.get("setup", ()):
            for name, value in beat.items():
                handles[name].value = value
            await FallingEdge(dut.clk)
            cycle += 1
        outputs, first_drive, next_beat = [], cycle, 0
        while True:
            # 1. read what the last rising edge registered
            if next_beat > 0 and _high(out_valid):
                outputs.append([_unsigned(h) for h in capture])
                if len(outputs) == wanted and next_beat >= len(beats):
                    break
            # 2. drive the next beat (or idle), sampled at the coming rising edge
            if next_beat < len(beats):
                beat = beats[next_beat]
                for name, value in idle.items():
                    if name not in beat:
                        handles[name].value = value
                for name, value in beat.items():
                    handles[name].value = value
                next_beat += 1
            elif next_beat == len(beats):
                for name, value in idle.items():
                    handles[name].value = value
                next_beat += 1
            await FallingEdge(dut.clk)
            cycle += 1
            if cycle - first_drive > TIMEOUT_CYCLES:
                raise AssertionError(f"job {index}: {len(outputs)} of {wanted} outputs after "
                                     f"{TIMEOUT_CYCLES} cycles")
        observed.append({"cycles": cycle - first_drive, "outputs": outputs})
        # the next job's first beat is driven now, in the cycle of this job's last output

    with open(os.environ["HWSIM_COSIM_OUT"], "w") as f:
        json.dump({"jobs": observed}, f)
