"""Blocked PIM: one row buffer per bank shared by normal accesses and PIM commands.

Newton-style HBM-PIM (NeuPIMs §3, the "naive NPU+PIM" baseline) keeps a single row buffer per
bank: while a PIM GEMV streams rows through the bank's multipliers, the NPU's reads and writes of
that bank must wait, and a PIM command must wait for the normal accesses in flight. NeuPIMs'
dual row buffers (§4.2: a memory row buffer and a PIM row buffer per bank) remove the conflict.

hwsim's PIM GEMV spreads over every bank of every channel (hwsim.unit_models.pim_cycles), so the
conflict is memory-wide: LD / ST rows are side 1, PIM rows side 2, and with `blocked` the timing
engine starts a row no earlier than the end of every row of the other side issued before it.
"""
from __future__ import annotations

import numpy as np

from isa import Queue

NONE, MEMORY, PIM = 0, 1, 2


def is_blocked(target) -> bool:
    """True when the target has PIM units and `mechanisms.dual_row_buffers` is off."""
    has_pim = any(u.kind == "pim" for u in target.units.values())
    mech = getattr(target, "mechanisms", None)
    return has_pim and not getattr(mech, "dual_row_buffers", True)


def memory_sides(queue: np.ndarray, units: list, target) -> np.ndarray | None:
    """Per row: MEMORY for LD / ST, PIM for rows on a PIM unit, NONE otherwise; None when the
    target is not blocked (nothing excludes anything)."""
    if not is_blocked(target):
        return None
    side = np.zeros(len(queue), np.int64)
    side[np.isin(queue, [int(Queue.LD), int(Queue.ST)])] = MEMORY
    pim = np.array([u is not None and target.units[u].kind == "pim" for u in units], bool)
    side[pim] = PIM
    return side
