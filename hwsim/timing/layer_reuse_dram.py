"""Layer reuse on a memory with a DRAM timing table: the banks' state and refresh
(hwsim.timing.layer_reuse calls these; hwsim.timing.layer_plan has checked that every LD / ST
moves by the same `row_shift` DRAM rows per layer, so each burst of layer j meets the channel,
bank and column of its twin in layer j - 1, `row_shift` rows further on).

Banks. Between the checkpoints c_{j-1} and c_j the transfers issued touch a set of banks (a
bank is touched when its ready time changed: every access sets it to its column + tCCD_S, later
than before); the next layers touch the same banks. For each touched bank the state at c_j must
be the one at c_{j-1} moved: open row + row_shift, and its times + D, clamped as the engine's
other times are. A bank's ready time enters only as max(start, ready) and its last ACT only as
ACT + tRAS in max(ready, ACT + tRAS) + tRP (and closed-page policy's precharge, the same
maximum), every start being >= T: so values below T - tRP change nothing and are clamped there.
Banks not touched are never touched by the copies either: their state is left as it is. The
transfer that opened a row is compared only with the running transfer's number, which no
earlier number equals: moved with the count.

Refresh. Windows [n tREFI, n tREFI + tRFC) sit on an absolute clock, so the layer j-1's
timing moved by D is exact only when D is a whole number of tREFI (within the tolerance of the
other times), or when every column command of the copies falls before the first window at
tREFI (all buses free before tREFI - m D). Otherwise the copies would meet the windows at other
points of their transfers: not reused, and the JSON `reuse.reason` says so.
"""
from __future__ import annotations

import numpy as np

from hwsim.memory.kernel import (BANK_ACT_S, BANK_OPENED_BY, BANK_READY_S, BANK_ROW,
                                 CHAN_BUS_FREE_S, P_TIMED, P_TRAS_S, P_TREFI_S, P_TRP_S,
                                 S_TRANSFERS)


def timed(state) -> bool:
    return bool(state.dram.params[P_TIMED])


def bank_snapshot(state, t: float) -> tuple:
    """(ready as it is, open rows, ready and ACT + tRAS clamped at t - tRP, opened-by)."""
    p, banks = state.dram.params, state.dram.bank_state
    floor = t - p[P_TRP_S]
    return (banks[:, BANK_READY_S].copy(), banks[:, BANK_ROW].copy(),
            np.maximum(banks[:, BANK_READY_S], floor),
            np.maximum(banks[:, BANK_ACT_S] + p[P_TRAS_S], floor),
            banks[:, BANK_OPENED_BY].copy())


def banks_differ(prev, cur, row_shift: int, tol: float) -> str | None:
    """Why the touched banks' state at c_j is not the one at c_{j-1} moved (None: it is)."""
    shift = cur.t - prev.t
    touched = cur.banks[0] != prev.banks[0]
    if np.any(cur.banks[1][touched] != prev.banks[1][touched] + row_shift):
        b = int(np.flatnonzero(touched & (cur.banks[1] != prev.banks[1] + row_shift))[0])
        return f"DRAM bank {b} has another open row than one layer before, {row_shift} rows on"
    for k, name in ((2, "ready time"), (3, "last activation")):
        if np.any(np.abs(cur.banks[k][touched] - shift - prev.banks[k][touched]) > tol):
            return f"DRAM bank {name}s differ from one layer before"
    return None


def refresh_allows(prev, cur, m: int, params, tol: float, bus_free_s: float) -> str | None:
    """None when refresh windows meet the next m layers as they met the last one; else why."""
    shift, trefi = cur.t - prev.t, params[P_TREFI_S]
    k = round(shift / trefi)
    if k >= 1 and abs(shift - k * trefi) <= tol:
        return None
    if bus_free_s + m * shift < trefi:
        return None
    return (f"refresh windows run on an absolute clock: a layer lasts {shift:.9g} s, not a whole "
            f"number of tREFI = {trefi:.9g} s, so the next layers would meet them elsewhere")


def jump_banks(state, prev, cur, m: int) -> None:
    """Move the touched banks by m layers: rows + m row shifts, times + m D, opened-by + m
    layers' transfers."""
    p, banks = state.dram.params, state.dram.bank_state
    touched = cur.banks[0] != prev.banks[0]
    moved = m * (cur.t - prev.t)
    rows = cur.banks[1] + m * (cur.banks[1] - prev.banks[1])
    banks[touched, BANK_ROW] = rows[touched]
    banks[touched, BANK_READY_S] = cur.banks[2][touched] + moved
    banks[touched, BANK_ACT_S] = cur.banks[3][touched] - p[P_TRAS_S] + moved
    transfers = m * (cur.stats[S_TRANSFERS] - prev.stats[S_TRANSFERS])
    banks[touched, BANK_OPENED_BY] = np.where(cur.banks[4][touched] >= 0,
                                              cur.banks[4][touched] + transfers, -1.0)


def latest_bus_free(state) -> float:
    return float(np.max(state.dram.chan_state[:, CHAN_BUS_FREE_S]))
