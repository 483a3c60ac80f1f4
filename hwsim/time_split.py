"""Where a step's time goes, split so the parts add up to the step time.

Units run at the same time, so their busy times add up to more than the step. Here the step's
timeline is cut at every instruction start and end; each piece goes to the one unit busy in
it ("<unit> alone"), to "several units at once" when more than one is, or to "no unit busy"
(waiting on dependencies or host issue). The pieces partition [0, step end)."""
from __future__ import annotations

import numpy as np

OVERLAP, IDLE = "several units at once", "no unit busy"


def time_split(start: np.ndarray, end: np.ndarray, unit_of_row: list) -> dict:
    """start, end: seconds per instruction; unit_of_row: a unit name per instruction (None:
    SYS). Returns {label: seconds}, labels "<unit> alone", OVERLAP and IDLE; the values sum to
    max(end)."""
    if len(end) == 0:
        return {}
    cuts = np.unique(np.concatenate([[0.0], start, end]))
    widths = np.diff(cuts)
    names = sorted({u for u in unit_of_row if u is not None})
    busy = np.zeros((len(names), len(widths)), bool)
    units = np.array([names.index(u) if u is not None else -1 for u in unit_of_row])
    for i in range(len(names)):
        sel = (units == i) & (end > start)
        delta = np.zeros(len(cuts) + 1, np.int64)
        np.add.at(delta, np.searchsorted(cuts, start[sel]), 1)
        np.add.at(delta, np.searchsorted(cuts, end[sel]), -1)
        busy[i] = np.cumsum(delta)[:len(widths)] > 0
    count = busy.sum(axis=0)
    split = {f"{name} alone": float(widths[(count == 1) & busy[i]].sum())
             for i, name in enumerate(names)}
    split[OVERLAP] = float(widths[count > 1].sum())
    split[IDLE] = float(widths[count == 0].sum())
    return split
