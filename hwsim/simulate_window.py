"""A compact program timed on a window of its unit copies (issue #15: the timing engine on the
compact form).

hwsim.program_arrays_window leaves a band of unit copies out of the rows; the engine runs on
the rest with layer reuse, and hwsim.timing.window_reuse gives the copy over the band's place
the band's layers as well, so the rows kept end at the whole program's times. Every figure of
the result then comes from the window and the count of copies left out (hwsim.window_totals):
seconds, cycles, DRAM statistics, bytes, instruction counts and the `reuse` report as the
whole program's run gives them; the energy's compute term and the roofline sums in the same
order (the same floats); utilisation equal to float rounding. The window starts with
KEPT_BEFORE copies before the band and doubles them while the engine's first layer copy comes
after the band's place; where none fits, the windows tried reach twice the flat rows, the
main memory has a DRAM timing table (the band's bank state has no test yet), or the run has
host-issue bounds, GPU kernels or channel-local PIM (whose numbering runs over the whole
program), every row is timed
(hwsim.simulate.simulate_arrays). `_detail` (per-row times for traces and CSV) is the whole
program's, worked out by that path when first read.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hwsim.energy import _compute_terms, energy_breakdown
from hwsim.program_arrays import _flatten, base_of, per_base_row
from hwsim.program_arrays_window import window_arrays
from hwsim.roofline import _row_resource, _row_seconds
from hwsim.service import unit_index
from hwsim.simulate import engine_inputs, result, run_engine, simulate_arrays
from hwsim.timing.gpu_stack import active_stack
from hwsim.timing.layer_plan import row_layers
from hwsim.timing.window_reuse import Band, BandMissed
from hwsim.window_totals import ordered_sum, pieces, repeats, union_s
from isa import Opcode, Queue

KEPT_BEFORE = 2  # unit copies before the band at first (doubled while the band is missed)
KEPT_AFTER = 2   # and after it: the identical run's last copy is not copied by reuse
TRIES = 6        # windows tried before every row is timed


def simulate_window(program, target, tokens: int) -> dict | None:
    """simulate_program's result for a compact program with reuse on, from a window; None
    where the window does not apply (then the caller times every row)."""
    if program.metadata.get("pim_channels") or active_stack(target)[1] is not None or any(
            getattr(u, "kernel_launch_s", 0.0) for u in target.units.values()):
        return None  # channel-local PIM, GPU kernels, host-issue bounds: numbered per program
    if target.memories[target.main_memory].timing is not None:
        return None  # a DRAM timing table: the band's bank rows and refresh (window_reuse) have
        # no test against the flat path yet, and no compiled program's layers move by whole
        # DRAM row periods (the plan refuses them): timed on the flat path
    kept, plan, geometry, most = KEPT_BEFORE, None, None, None
    base = _flatten(program.base)  # the short program's arrays, for every window tried
    timed_rows, flat_rows = 0, len(program)
    for _ in range(TRIES):
        win = None  # the last window's rows freed before the next is built (peak memory)
        placed = _place(program, kept, plan, geometry, most)
        win = window_arrays(program, *placed, base=base) if placed else "no band fits"
        if isinstance(win, str):
            return None
        timed_rows += len(win.arrays)
        if timed_rows > 2 * flat_rows:  # windows tried cost twice the flat path: time that
            return None
        u = win.band_layers // win.left_out
        geometry = (win.first_layer - (win.lo - 1) * u, u)  # copy 1's first layer, layers
        try:
            return _simulate(program, target, tokens, win)
        except BandMissed as missed:
            if missed.final:
                return None
            if missed.plan is not None and (missed.plan, missed.most_band) != (plan, most):
                plan, most = missed.plan, missed.most_band
            else:
                kept *= 2
    return None


def _place(program, kept: int, plan, geometry, most: int | None):
    """(lo, hi, chunk) of a band after `kept` copies: with the identical run's (group, first
    layer) `plan`, starting on a group boundary from the run's third group on, whole groups
    long, at most `most` layers; None if none fits."""
    chunk, lo, after = 1, kept + 1, KEPT_AFTER
    if plan is not None:
        (g, first), (layer1, u) = plan, geometry
        chunk = g // math.gcd(u, g)  # copies in whole groups

        def layer(x: int) -> int:
            return layer1 + (x - 1) * u
        lo = next((x for x in range(lo, program.copies) if layer(x) >= first + 2 * g
                   and (layer(x) - first) % g == 0), None)
        if lo is None:
            return None
        after = max(after, -(-(g + 1) // u))  # a group of the run after the band
    n = program.copies - after - lo + 1
    if most is not None:
        n = min(n, most // geometry[1])
    n = n // chunk * chunk
    return (lo, lo + n - 1, chunk) if n >= max(2, chunk) else None


def _simulate(program, target, tokens: int, win) -> dict | None:
    a = win.arrays
    if np.any(base_of(a).opcode == int(Opcode.PIM_GEMV)):
        return None
    a.repeats = repeats(win)  # the whole program's (bytes, sram energy), before any sum reads
    # row_counts (energy.buffer_bytes / dram_bytes are kept once per arrays)
    x = engine_inputs(program, a, target, win.metadata)
    if x["not_before"] is not None or x["kernel"] is not None or x["channel"] is not None:
        return None
    band = Band(win)
    start, end, reuse_report = run_engine(a, x, target, win.layers(row_layers(
        a.op_index, a.op_names)), band)
    for name in ("service", "memory_rows", "not_before"):  # the engine's alone: freed before
        x[name] = None                                     # the sums (peak memory)
    seconds = max(float(end.max()), band.band_end) if len(end) else 0.0
    utilization = {}
    for name, rows in [(n, x["resource"] == i) for i, n in enumerate(x["names"])] + [
            ("memory", x["is_mem"])]:
        busy = union_s(win, band, start, end, rows)  # busy_fractions, in_flight_seconds
        if busy is None:
            return None
        utilization[name] = busy / seconds if seconds else 0.0
    units, dram = x["base_units"], x["dram"]
    terms, busy_rows = _compute_terms(base_of(a), target.energy, units)
    energy = energy_breakdown(a, target, units, seconds, dram.stats.activations, None,
                              ordered_sum(pieces(win, busy_rows[a.src]), terms[a.src]))
    counts = {q.name: int(win.flat_counts[q.name]) for q in Queue}
    return result(a, target, tokens, seconds, energy, utilization, dram,
                  _bound(win, target, units), reuse_report, counts,
                  _Detail(lambda: simulate_arrays(program, target, tokens, True)["_detail"]))


def _bound(win, target, units: list) -> dict:
    """program_bound's roofline_s and bound: per resource, the rows' seconds summed in
    program order."""
    a = win.arrays
    seconds = per_base_row(a, _row_seconds, target, units)
    resource = per_base_row(a, _row_resource, units)
    names = ["memory"] + unit_index(units)[0]
    per_resource = {n: ordered_sum(pieces(win, resource == k), seconds)
                    for k, n in enumerate(names)}
    bound = max(per_resource, key=per_resource.get)
    return {"roofline_s": per_resource[bound], "bound": bound, "per_resource_s": per_resource}


class _Detail(Mapping):
    """The whole program's `_detail`, worked out on first read."""

    def __init__(self, make):
        self._make, self._value = make, None

    def _get(self) -> dict:
        if self._value is None:
            self._value = self._make()
        return self._value

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())
