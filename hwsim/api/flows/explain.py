"""The figures that make a result readable: the clock behind `cycles`, achieved DRAM bandwidth
against peak, average power, and the step time split so that it adds up."""
from __future__ import annotations

from hwsim.simulate import reference_clock_hz
from hwsim.time_split import time_split


def explain(result, target) -> dict:
    """result: an api Result; target: the Target it ran on. Bandwidths in bytes/s, power in W,
    `time_split_s` in seconds (None when the run kept no per-instruction timeline of its own:
    mobile-NPU prefill, generate). `dram_bytes_per_s` is None for generate, whose `bytes` are
    its last decode step's."""
    names = target.units_for_queue("MM") or list(target.units)
    clock = target.units[names[0]].clock
    seconds = result.seconds
    dram = float(result.bytes.get("dram_read", 0.0)) + float(result.bytes.get("dram_write", 0.0))
    out = {"cycles_clock": clock, "cycles_clock_hz": reference_clock_hz(target),
           "dram_bytes_per_s": dram / seconds if seconds else 0.0,
           "dram_peak_bytes_per_s": target.memories[target.main_memory].bandwidth_bytes_per_s,
           "average_w": result.energy_j / seconds if seconds and result.energy_j else None,
           "units": sorted(target.units), "time_split_s": None}
    d = result.detail
    # a generate run keeps its last decode step's timeline: it does not span the run
    spans_run = d is not None and len(d["end"]) and \
        abs(float(d["end"].max()) - seconds) <= 1e-9 * seconds
    if result.phase == "generate":
        out["dram_bytes_per_s"] = None   # its `bytes` are the last decode step's
    if spans_run:
        out["time_split_s"] = time_split(d["start"], d["end"], _row_units(d["arrays"],
                                                                          d["units"]))
    return out


def _row_units(a, units) -> list:
    """Per instruction: its compute unit, "memory" for LD / ST, None for SYS."""
    from isa import Queue
    mem = {int(Queue.LD), int(Queue.ST)}
    return [("memory" if int(q) in mem else u) for q, u in zip(a.queue, units)]
