"""The arrays of a compact program with a band of its unit copies left out (the window).

A CompactProgram repeats its unit (one or two decoder layers) `copies` times. The window keeps
unit copies 1..lo-1 and hi+1..copies (and everything outside the copies) and leaves out
copies lo..hi: every row it keeps is the flat program's row, addresses included
(hwsim.program_arrays_compact with `skip`). Its metadata is the flat program's without the
band's ops (their rows' positions moved up), so op names keep their layer numbers; `layers`
maps them to consecutive ones (the band's layers closed up) for hwsim.timing.layer_plan.
hwsim.timing.window_reuse times the window as the whole program, and hwsim.window_totals
works out the whole program's figures from the window and the count of copies left out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.program_arrays import ProgramArrays
from hwsim.program_arrays_compact import flatten_skipping
from hwsim.timing.layer_plan import row_layers
from isa import Queue


@dataclass
class Window:
    arrays: ProgramArrays     # the rows kept (a compact program's arrays: src, base)
    lo: int                   # unit copies lo..hi left out
    hi: int
    first_layer: int          # the band's first decoder layer (flat numbering)
    band_layers: int          # decoder layers in the band
    insert: np.ndarray        # per queue: the window row the band's rows stood before
    ref: np.ndarray           # window rows of unit copy lo - 1 (the copy before the band)
    plan_addr: np.ndarray     # dram_addr of the rows as if the copies after the band followed
    flat_counts: dict         # the whole program's rows per queue name
    metadata: dict            # the window's: the flat program's without the band's ops

    @property
    def left_out(self) -> int:
        return self.hi - self.lo + 1

    def layers(self, layers: np.ndarray) -> np.ndarray:
        """Per row decoder layers (flat numbers) -> consecutive ones (the band closed up)."""
        after = layers >= self.first_layer + self.band_layers
        return np.where(after, layers - self.band_layers, layers).astype(layers.dtype)

    def flat_layer(self, layer: int) -> int:
        """A window layer number -> the whole program's."""
        return layer + self.band_layers if layer >= self.first_layer else layer


def window_arrays(program, lo: int, hi: int, chunk: int = 1, base=None):
    """The Window of `program` without unit copies lo..hi (2 <= lo <= hi < copies), the band
    whole `chunk`s of copies; a string (why not) when the band's ops are not whole decoder
    layers. `base`: the short program's arrays where the caller has them."""
    if not (2 <= lo <= hi < program.copies and (hi - lo + 1) % chunk == 0):
        return "too few unit copies to leave any out"
    starts, ends = {}, {}
    for q in Queue:
        pos = 0
        for first, stop, _, n, j in program.blocks(q):
            if j == lo:
                break
            pos += (stop - first) * (n + 1)
        starts[q.name], ends[q.name] = pos, pos + (hi - lo + 1) * program.unit_rows(q)
    ops, band_layers = [], set()
    for op in program.metadata.get("ops", []):
        rows = [(q, f) for q, f in op["first"].items() if op["count"].get(q, 0)]
        inside = [starts[q] <= f < ends[q] for q, f in rows]
        if any(inside):
            if not all(inside) or not all(f + op["count"][q] <= ends[q] for q, f in rows) \
                    or op.get("layer") is None:
                return "an op of the band has rows outside it or no layer"
            band_layers.add(int(op["layer"]))
            continue
        first = {q: f - (ends[q] - starts[q]) if f >= ends[q] else min(f, starts[q])
                 for q, f in op["first"].items()}
        ops.append({**op, "first": first})
    first_layer = min(band_layers, default=0)
    if any(op.get("layer") in band_layers and any(op["count"].values()) for op in ops):
        return "the band's ops are not whole decoder layers"
    ops = [op for op in ops if op.get("layer") not in band_layers]  # and rowless ones
    if not band_layers or band_layers != set(range(first_layer, first_layer + len(band_layers))):
        return "the band's ops are not whole decoder layers"
    metadata = {**program.metadata, "ops": ops}
    a, unit_copy, unit = flatten_skipping(program, (lo, hi), metadata, base)
    qs = a.queue_start
    insert = np.array([qs[int(q)] + starts[q.name] for q in Queue], np.int64)
    ref = np.flatnonzero(unit_copy == lo - 1)
    # addresses of the rows after the band moved back by the band's copies (the copies
    # then follow each other by one unit delta, as layer_plan compares them)
    plan_addr = a.fields["dram_addr"].copy()
    if "dram_addr" in unit:
        after = np.flatnonzero(unit_copy > hi)
        plan_addr[after] -= (hi - lo + 1) * unit["dram_addr"][a.src[after]]
        _follow(a, unit_copy, plan_addr, first_layer, len(band_layers) // (hi - lo + 1))
    return Window(a, lo, hi, first_layer, len(band_layers), insert, ref, plan_addr,
                  program.counts_per_queue(), metadata)


def _follow(a, unit_copy: np.ndarray, plan_addr: np.ndarray, first_layer: int,
            unit_layers: int) -> None:
    """The decoder layers after the copies (the program's last ones, not copies of the unit)
    moved back as the layer `unit_layers` before them, row for row where they have as many
    rows per queue: so their addresses keep their offsets from the copies before them."""
    layers = row_layers(a.op_index, a.op_names)
    tail = np.flatnonzero((unit_copy == 0) & (layers > first_layer))
    qs = a.queue_start
    for layer in np.unique(layers[tail]).tolist():
        for q in range(len(Queue)):
            span = slice(qs[q], qs[q + 1])
            rows = qs[q] + np.flatnonzero(layers[span] == layer)
            prev = qs[q] + np.flatnonzero(layers[span] == layer - unit_layers)
            if len(rows) and len(rows) == len(prev):
                plan_addr[rows] -= a.fields["dram_addr"][prev] - plan_addr[prev]
