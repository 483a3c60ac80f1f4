"""Program-level co-simulation: a tile program compiled by the compiler runs on the RTL ISA core
(rtl_models/isa_core.v) and in hwsim; every instruction's start and end cycle, the total cycles
and the final off-chip image must be equal.

Who decides what: the compiler compiles the kernel for the small target (targets/rtl-tiny.yaml);
hwsim.simulate times it (the engine, the unit formulas, the bank-level DRAM model); the RTL core
executes the encoded words with its own queues, token counters, units and DRAM bank timing, and
counts cycles by running. The expected output image comes from an independent numpy computation
of the kernel with isa.intmath (and from hwsim.functional when that package exists).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import isa
from isa.encoding import encode
from rtl_models.cosim import RTL_DIR, CheckResult, CosimError, Unit, simulate

TARGET_PATH = RTL_DIR / "targets" / "rtl-tiny.yaml"
CODE_WORDS = 256          # code memory depth (one build serves every program up to this size)
SOURCES = ("isa_core.v", "core_mm.v", "core_vec.v", "dram_timing.v", "systolic_ws.v",
           "vector_requant.v", "vector_exp.v")
ISA_CORE = Unit("isa_core", "isa_core", SOURCES, "rtl_models.tb.core_tb",
                stimulus=None, check=None, describe=lambda p: "isa core")


def _whole(value: float, what: str) -> int:
    if not math.isclose(value, round(value), abs_tol=1e-9) or value < 0:
        raise CosimError(f"rtl-tiny core: {what} = {value} is not a whole number of cycles")
    return int(round(value))


def core_params(target) -> dict:
    """The core's Verilog parameters from the target: array and lane counts, buffer and memory
    sizes, DRAM geometry and timing in core cycles. Refuses what the core does not model."""
    sa, vec = target.units["systolic"], target.units["vector"]
    spad = target.buffers["spad"]
    mem = target.memories[target.main_memory]
    t = mem.timing
    core_hz = target.clocks[sa.clock].freq_hz
    if len(target.buffers) != 1 or mem.channels != 1 or mem.row_buffer_policy != "open" \
            or t is None or not math.isclose(core_hz * t.tck_s, 1.0):
        raise CosimError("rtl core models one scratchpad and a 1-channel open-page DRAM whose "
                         "clock equals the core clock")
    burst_s = mem.burst_bytes / (mem.bandwidth_bytes_per_s / mem.channels)
    return {"CODE_WORDS": CODE_WORDS, "SPAD_BYTES": spad.size_bytes,
            "DRAM_BYTES": mem.capacity_bytes, "R": sa.rows, "C": sa.cols,
            "LANES": vec.count * vec.lanes, "BANKS": mem.banks_per_channel,
            "PAGE_BYTES": mem.row_bytes, "BURST_BYTES": mem.burst_bytes,
            "INTERLEAVE_BYTES": mem.channel_interleave_bytes,
            "BURST_CYCLES": _whole(burst_s / t.tck_s, "burst time"),
            "TRCD": t.trcd_cycles, "TRP": t.trp_cycles, "TRAS": t.tras_cycles,
            "CL": t.cl_cycles, "CWL": t.cwl_cycles, "TCCD": t.tccd_s_cycles,
            "TREFI": t.trefi_cycles, "TRFC": t.trfc_cycles,
            "EXTRA_CYCLES": _whole(max(0.0, mem.latency_s / t.tck_s - t.trcd_cycles - t.cl_cycles),
                                   "latency beyond tRCD + CL")}


def program_files(program: isa.Program, dram: np.ndarray) -> dict:
    """The hex images the core reads: code words queue by queue, queue starts, DRAM bytes."""
    words = [instr for q in isa.Queue for instr in program.streams[q]]
    if len(words) > CODE_WORDS:
        raise CosimError(f"program of {len(words)} words exceeds the core's {CODE_WORDS}")
    starts = np.cumsum([0] + [len(program.streams[q]) for q in isa.Queue])
    return {"code.hex": "".join(f"{encode(i):064x}\n" for i in words),
            "qstart.hex": "".join(f"{int(s):04x}\n" for s in starts),
            "dram_in.hex": "".join(f"{b:02x}\n" for b in dram.tolist())}


def model_times(program: isa.Program, target) -> tuple[np.ndarray, np.ndarray, int]:
    """hwsim's per-instruction (start, end) cycles (flatten order) and total cycles."""
    from hwsim.simulate import reference_clock_hz, simulate_program

    result = simulate_program(program, target, 1)
    hz = reference_clock_hz(target)
    start = np.rint(result["_detail"]["start"] * hz).astype(np.int64)
    end = np.rint(result["_detail"]["end"] * hz).astype(np.int64)
    return start, end, int(result["cycles"])


def run_on_core(program: isa.Program, target, dram: np.ndarray, sim: str = "icarus",
                build_root: Path | None = None) -> dict:
    """Execute `program` on the RTL core; the testbench's observations plus the final image."""
    params = core_params(target)
    image = np.zeros(params["DRAM_BYTES"], np.uint8)
    image[:len(dram)] = dram
    obs = simulate(ISA_CORE, params, {"files": program_files(program, image)}, sim=sim,
                   build_root=build_root)
    obs["dram"] = np.frombuffer(bytes.fromhex(obs["dram"]), np.uint8)
    return obs


def compare(name: str, config: str, program, target, expected, obs,
            vectors: int) -> CheckResult:
    """Per instruction: RTL (start, end) == hwsim's; total cycles equal; final images equal."""
    start, end, total = model_times(program, target)
    n = len(start)
    result = CheckResult(name, config, jobs=n, vectors=vectors)
    rtl_start = np.array(obs["start"][:n], np.int64)
    rtl_end = np.array(obs["end"][:n], np.int64)
    result.rtl_cycles = int(rtl_end.max()) if n else 0
    result.model_cycles = total
    for i in range(n):
        if (rtl_start[i], rtl_end[i]) != (start[i], end[i]) and len(result.cycle_mismatches) < 20:
            result.cycle_mismatches.append((i, int(rtl_end[i]), int(end[i])))
    if result.rtl_cycles != total or obs["error"]:
        result.cycle_mismatches.append((-1, result.rtl_cycles, total))
    result.record_numerics(0, obs["dram"][:len(expected)], expected)
    return result
