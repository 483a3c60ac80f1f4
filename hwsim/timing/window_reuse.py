"""Layer reuse on a window: rows that leave out a band of identical layers (hwsim.program_arrays_window).

The window's rows are the whole program's but for `layers` decoder layers starting at
`first_layer` (window numbering: the layers after the band are numbered on from it). The
engine runs on the window with layer reuse (hwsim.timing.layer_reuse). Before the band the
window and the whole program are the same rows and the engine does the same in both. At a
checkpoint j (plan units) of the identical run whose match copies m layers over the band's
place (j <= cut <= j + m, cut: the band's place in plan units), the whole program's engine,
at the same checkpoint in the same state, copies m + E layers (E: the band in plan units):
the bounds on m grow by E with the program (the identical run's end, the token FIFOs' room,
by a layer's tokens per layer), host-issue bounds and GPU kernels are absent (the window
is only used without them: hwsim.simulate_window), transfers and bank rows repeat per layer,
and refresh is checked for m + E. So the window's `_jump` is given E: the copies after the
band's place and the state are E layers later in time, the DRAM counts grow by m + E layers'
(positions move by m): from there on the window's rows run as the whole program's last ones,
state and times equal bit for bit. If no such match comes before the engine gets to the band's
place, the window is no use (`BandMissed`: the caller times the whole program).
"""
from __future__ import annotations

import numpy as np

from hwsim.timing import layer_reuse_dram as dram_reuse
from hwsim.timing.layer_reuse import REL_TOL, _Layers


class BandMissed(Exception):
    """The engine reached the band's place without a layer copy over it; `plan`: (group,
    first layer) of the identical run where the band is misplaced (not on a group's
    boundary, not whole groups long, not from the run's third group on: the caller places it
    again), `most_band`: the most layers it may hold for the run's group to be found;
    `final`: no layers are identical (no window would serve)."""

    def __init__(self, why: str, plan: tuple | None = None, most_band: int | None = None,
                 final: bool = False):
        super().__init__(why)
        self.plan, self.most_band, self.final = plan, most_band, final


class Band:
    """What the engine needs to know about the layers left out; after the run: `shift` (D,
    s), `plan_units` (E), `band_end` (the latest end of the rows left out, s), `after` (per
    queue, the first row whose times are E layers later than without the band: the band's
    place, or on a queue without rows in it the row next after the copy), `ref` and `length`
    (per queue: the first row and rows of the layer copied, hwsim.window_totals)."""

    def __init__(self, window):
        self.w = window
        self.covered, self.shift, self.plan_units, self.band_end = False, 0.0, 0, 0.0

    def no_plan(self, why: str) -> None:
        raise BandMissed(why, final=True)

    def plan_rows(self, rows: dict) -> dict:
        out = {**rows, "addr": self.w.plan_addr}
        self.w.plan_addr = None  # the plan's alone: freed with its rows (peak memory)
        return out

    def driver(self, p, rows: dict, initial):
        return _BandLayers(p, rows, initial, self)

    def mapped(self, out: dict, lay) -> dict:
        """The JSON `reuse` report in the whole program's layer numbers."""
        if not self.covered:
            raise BandMissed(out.get("reason") or "the band was not copied over")
        f, first = self.w.flat_layer, self.w.first_layer
        out["layers"] += self.w.band_layers
        # the copy over the band's place ends band_layers later; the others as numbered
        out["reused"] = [[f(a), b + self.w.band_layers if a <= first <= b + 1 else f(b), f(c)]
                         for a, b, c in out["reused"]]
        out["layers_reused"] = int(sum(b - a + 1 for a, b, _ in out["reused"]))
        out["row_periods"] = [[f(k) if k >= 0 else k, n, r] for k, n, r in out["row_periods"]]
        return out


class _BandLayers(_Layers):
    def __init__(self, p, rows: dict, initial, band: Band):
        super().__init__(p, rows, initial)
        self.band = band
        g, off = p.group, band.w.first_layer - p.first
        seen = int(p.end[p.anchor] - p.a[p.anchor]) * g // int(p.length[p.anchor])
        unit, left = band.w.band_layers // band.w.left_out, band.w.band_layers
        if not p.first < band.w.first_layer < p.first + seen:
            raise BandMissed("the band is outside the identical run", final=True)
        # layer_plan._group tried the groups the whole program's run would (every one up to
        # a third of its layers where none fits: some transfers rotate), and the group found
        # is seen with every layer of a unit copy in some pair
        need = (seen + left) // 3 + 1 if g == 1 and np.any(p.rotating) else \
            g + 2 * unit if g > 1 else 0
        if seen < need:
            raise BandMissed("too few layers to find the run's group as the program's would",
                             (g, p.first), seen + left - need)
        # on group boundaries, whole groups, from the third group on (the first copy comes
        # at the second at the earliest, and its state must not hold the band's rows)
        if off % g or left % g or off // g < 2:
            raise BandMissed("the band is not whole groups of the run from its third on",
                             (g, p.first))
        if off // g >= p.count:  # a group of the run after the band's place, to copy over it
            raise BandMissed("the run ends at the band", (g, p.first),
                             left - ((off // g + 1) * g - seen))
        self.cut, self.extra = off // g, left // g

    def inserted(self, state, prev, cur, m: int) -> tuple:
        b, j = self.band, self.j
        if b.covered:
            return 0, None
        if j > self.cut or (j == self.cut and not m):
            raise BandMissed("the engine reached the band's place without a copy over it")
        if not m or j + m < self.cut:
            return 0, None
        insert, length = b.w.insert, self.p.length
        q = length > 0  # the queues with rows in the band
        if np.any(cur.ptr[q] > insert[q]) or np.any(cur.ptr[q] + m * length[q] < insert[q]):
            raise BandMissed("a queue is past the band's place, or short of it after the copy")
        total, shift = m + self.extra, cur.t - prev.t
        if cur.banks is not None and dram_reuse.refresh_allows(
                prev, cur, total, state.dram.params, REL_TOL * cur.t,
                dram_reuse.latest_bus_free(state)):
            raise BandMissed("refresh would meet the whole program's copies elsewhere")
        b.covered, b.shift, b.plan_units = True, shift, self.extra
        b.after = np.where(q, insert, cur.ptr)  # per queue: rows from here on are moved
        b.ref, b.length = prev.ptr.copy(), length.copy()
        b.band_end = _band_end(state, prev, insert, length, self.extra, shift)
        return self.extra, insert


def _band_end(state, prev, insert, length, extra: int, shift: float) -> float:
    """The latest end among the rows left out, as the whole program's copy gives them: each
    queue's last layer of them (the latest copy of each reference row) at ref + k x shift."""
    out = 0.0
    for q in np.flatnonzero(length):
        a, n = int(prev.ptr[q]), int(length[q])
        rows = int(insert[q]) + (extra - 1) * n + np.arange(n) - a  # from the reference's first
        out = max(out, float(np.max(state.end[a + rows % n] + rows // n * shift)))
    return out
