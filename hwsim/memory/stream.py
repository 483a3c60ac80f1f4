"""Long contiguous streams in closed form: many rounds of a timed DRAM transfer in one step,
bit for bit what the chunk-by-chunk walk of `hwsim.memory.kernel` gives.

A round is one interleave chunk on every channel (channel 0 to the last, one bank, one row
slot); a contiguous transfer is a sequence of rounds. Once every bank's previous access is in the
same transfer (more than `banks` rounds in), each channel's chunks follow a fixed pattern: the
bank of the round, a row hit except at slot 0, where it is a conflict with the row before.

The regime. Say the chunk's column command waits only for the channel (the previous column +
tCCD_S, or the data bus less CAS latency), not for its bank, and no refresh window is near.
Then its column is `when = L + b` (L the channel's last column, b = max(tCCD_S, burst time))
and its last column `L + b + H`, H = (bursts per chunk - 1) x max(tCCD_S, burst time). In
floating point each of those is a sum `x + c` rounded: while x and x + c lie in one binade
[2^e, 2^(e+1)), where the doubles are the multiples of u = 2^(e-52), `fl(x + c) = x + r(c)`,
r(c) = c rounded to a multiple of u (unique unless c / u is an odd multiple of 1/2, a tie, which
is refused). So the k-th column is exactly `L + k D`, D = r(b) + r(H), and `L + k D` is itself a
double in the binade: one multiply and one add give the walk's value.

Conditions checked before a jump of J rounds (`_jump_rounds`), each with a margin of
(8 S + 64) u for rounding (S = banks x slots, the rounds between a bank's activations):
- the bank never binds: a hit's bank is ready at its last column + tCCD_S, `banks` rounds
  earlier; a conflict's column is max(that, its last ACT + tRAS) + tRP + tRCD, its last ACT
  S rounds earlier (or, for the first in the jump, any bank's ACT in the state now). Every
  round moves the channel's column by at least D, so (banks - 1) D + b > tCCD_S + tRP + tRCD,
  (S - 1) D + b > tRAS + tRP, and the state's latest ACT + tRAS + tRP + tRCD below the first
  column suffice; (S - banks) D + tCCD_S + tRCD > tRAS makes every activation in the jump
  start tRP after its bank's ready time (so the last one is known from its bank's last access);
- refresh: every column in the jump falls in the same refresh interval n, after its window
  (n tREFI + tRFC <= first column) and the last column before (n + 1) tREFI: the walk would
  place each in one step, as the comparisons it makes are monotone in the time;
- one binade holds the first column and the last column + max(CAS + burst time, tCCD_S).

The jump then writes what the walk would have left: each channel's last column and bus end,
and per bank its ready time, open row and its last ACT (recomputed with the walk's own
expression from the bank's access before it). Counters: J x channels chunks, conflicts at
slot 0. No refresh stall falls inside a jump, so the running stall sum is untouched.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

BANK_ROW, BANK_READY_S, BANK_ACT_S, BANK_OPENED_BY = range(4)
CHAN_BUS_FREE_S, CHAN_COL_S = range(2)

_EXACT_BELOW = 2.0 ** 52  # c / u at or above this: c is already a multiple of u


@njit(cache=True)
def _on_grid(c, u):
    """r(c): c rounded to a multiple of u as x + c rounds for x a multiple of u in the same
    binade; -1.0 when c / u is a tie (x's parity would decide)."""
    q = c / u  # u is a power of two: exact
    if q >= _EXACT_BELOW:
        return c
    f = math.floor(q)
    if q - f == 0.5:
        return -1.0
    return math.floor(q + 0.5) * u


@njit(cache=True)
def _channel_step(L0, cas, burst_s, tccd, hit_span_s):
    """(u, b_r, D, top) for a channel whose last column is L0: its binade's grid u, the
    rounded column gap b_r, the rounded round step D, the binade's upper end top; u = 0 when
    a tie or a non-positive time forbids the closed form."""
    if not L0 > 0.0 or not math.isfinite(L0):
        return 0.0, 0.0, 0.0, 0.0
    mant, ex = math.frexp(L0)  # L0 = mant 2^ex, mant in [0.5, 1): binade [2^(ex-1), 2^ex)
    u = math.ldexp(1.0, ex - 53)
    r_cas, r_b, r_tccd, r_h = (_on_grid(cas, u), _on_grid(burst_s, u), _on_grid(tccd, u),
                               _on_grid(hit_span_s, u))
    if min(min(r_cas, r_b), min(r_tccd, r_h)) < 0.0:
        return 0.0, 0.0, 0.0, 0.0
    b_r = max(r_tccd, r_b)
    return u, b_r, b_r + r_h, math.ldexp(1.0, ex)


@njit(cache=True)
def _jump_rounds(tm, bank_state, chan_state, transfer, start_s, cas, channels, banks, slots,
                 per_chunk, rounds_max, settled, plan):
    """(J, retry): how many rounds all `channels` (the mapped ones) may jump from the
    position `plan` was worked out at, and after how many stepped rounds to ask again when
    J is 0. `settled`: S full rounds of this transfer are behind, so every
    bank's last access and last ACT are this transfer's, at least D per round apart: the
    static conditions alone keep the banks from binding (no bank-by-bank check)."""
    S = banks * slots
    hit_span = (per_chunk - 1) * max(tm.tccd_s, tm.burst_s)  # as the walk's `hits * spacing_s`
    if tm.trefi_s <= 0.0:
        return 0, 1 << 30
    J = rounds_max
    u, b_r, D, top = 0.0, 0.0, 0.0, 0.0
    room = 0.0
    for c in range(channels):
        L0 = chan_state[c, CHAN_COL_S]
        if not 0.5 * top <= L0 < top:  # another binade than the channel before
            u, b_r, D, top = _channel_step(L0, cas, tm.burst_s, tm.tccd_s, hit_span)
            if u == 0.0:
                return 0, 1
            margin = (8 * S + 64) * u  # (the same for every channel in this binade)
            if ((banks - 1) * D + b_r - tm.tccd_s - tm.trp_s - tm.trcd_s <= margin
                    or (S - 1) * D + b_r - tm.tras_s - tm.trp_s <= margin
                    or (S - banks) * D + tm.tccd_s + tm.trcd_s - tm.tras_s <= margin):
                return 0, 1 << 30  # the bank may bind in this regime: never jump this transfer
            room = max(cas + tm.burst_s, tm.tccd_s) + 4 * u
        when0 = L0 + b_r
        if max(L0 + tm.tccd_s, chan_state[c, CHAN_BUS_FREE_S] - cas) != when0:
            return 0, 1  # the bus is held by a transfer of the other direction (CL vs CWL)
        n = math.floor(when0 / tm.trefi_s)
        if n >= 1.0 and when0 - n * tm.trefi_s < tm.trfc_s:
            return 0, 1  # in a refresh window: step through it
        limit = (n + 1.0) * tm.trefi_s
        if _rounds_fit(tm, L0, D, b_r, room, limit, top, n, J):
            continue  # the rounds the channels before allow fit this one too
        j = int(min(float(J), (min(limit, top - room) - L0) / D))
        while j > 0 and not _rounds_fit(tm, L0, D, b_r, room, limit, top, n, j):
            j -= 1
        J = min(J, j)
        if J <= 0:  # a refresh window or the binade's end is next: step one and ask again
            return 0, 1
    for c in range(0 if settled else channels):
        L0 = chan_state[c, CHAN_COL_S]
        if not 0.5 * top <= L0 < top:
            u, b_r, D, top = _channel_step(L0, cas, tm.burst_s, tm.tccd_s, hit_span)
        retry = _banks_follow(tm, bank_state, L0, u, b_r, D, c, transfer, start_s, banks, slots,
                              plan, J)
        if retry:
            return 0, retry
    return J, 1


@njit(cache=True, inline="always")
def _rounds_fit(tm, L0, D, b_r, room, limit, top, n, j):
    """Whether j rounds from last column L0 stay before `limit` (the next refresh window) and,
    with `room`, in the binade below `top`, the last one starting in refresh interval n (the
    columns grow with the rounds: the last decides)."""
    return L0 + j * D < limit and L0 + j * D + room < top \
        and math.floor((L0 + (j - 1) * D + b_r) / tm.trefi_s) == n


@njit(cache=True, inline="always")
def activate(tm, open_row, opened_by, ready_s, act_s, transfer, start_s, row):
    """(column time, outcome, ACT time, opening transfer) of the first burst of a chunk to `row`
    of a bank in state (open row, opening transfer, ready time, last ACT); outcome 0 row hit,
    1 miss, 2 conflict; the last two: the bank's new ACT time and opening transfer (a row it
    opens, else as they were).

    The chunk-by-chunk walk (hwsim.memory.kernel) and a jump's first access of each bank share
    it; numbers in and out, no arrays (an array passed to an inlined helper is reference-counted,
    two atomic adds and two calls a chunk). Closed-page policy: the controller keeps a row open
    while the transfer that opened it still has bursts queued for it, and precharges it after
    that transfer's last one; that precharge is charged here, lazily, when a later transfer
    reaches the bank."""
    tras, trp = tm.tras_s, tm.trp_s
    if tm.closed_page and open_row >= 0.0 and opened_by != transfer:
        ready = max(start_s, max(ready_s, act_s + tras) + trp)
        open_row = -1.0
    else:
        ready = max(start_s, ready_s)
    if open_row == row:
        return ready, 0, act_s, opened_by
    if open_row < 0.0:
        outcome, act = 1, ready
    else:
        outcome, act = 2, max(ready, act_s + tras) + trp
    return act + tm.trcd_s, outcome, act, transfer


@njit(cache=True)
def _banks_follow(tm, bank_state, L0, u, b_r, D, c, transfer, start_s, banks, slots, plan, J):
    """0 when no bank of channel c binds in the first J rounds of the jump from L0: its first
    access (whatever its outcome) and its next activation (tRAS after the one before) issue
    by the column the channel gives them; else the rounds to step before asking again.
    `plan`: the jump's rounds, bank by bank (`_round_plan`)."""
    S = banks * slots
    margin = (8 * S + 64) * u
    if start_s > L0 + b_r - margin:  # the channel was idle: the transfer's start binds
        return 1
    retry = 0
    for j in range(min(banks, J)):  # round j: the first access of its bank in the jump
        ja1 = plan[j, _JA1]  # the bank's next slot-0 round
        b = c * banks + plan[j, _BETA]
        col, outcome, act, _ = activate(tm, bank_state[b, BANK_ROW], bank_state[b, BANK_OPENED_BY],
                                        bank_state[b, BANK_READY_S], bank_state[b, BANK_ACT_S],
                                        transfer, start_s, plan[j, _ROW_FIRST])
        if col > L0 + j * D + b_r - margin:
            retry = max(retry, j + 1)
        if ja1 < J and act + tm.tras_s + tm.trp_s + tm.trcd_s > L0 + ja1 * D + b_r - margin:
            retry = max(retry, ja1 + 1)
    return retry


# `_round_plan` columns: for round j < banks of a jump (the first access of its bank in it),
# the bank, whether the round is at slot 0, the bank's next slot-0 round after j, its row at
# round j; and, once the jump's length J is known (`_plan_jump`), its last slot-0 round in the
# jump (-1: none), its last access, and the row of that access. The same for every channel.
_BETA, _AT_SLOT0, _JA1, _ROW_FIRST, _JA, _JL, _ROW_LAST = range(7)


@njit(cache=True)
def _round_plan(banks, slots, pos0, row):
    """The J-free columns of the plan of a jump from position pos0 of row `row`."""
    S = banks * slots
    plan = np.empty((banks, 7), np.int64)
    bank = pos0 % banks
    for j in range(banks):
        beta = bank + j if bank + j < banks else bank + j - banks
        p = pos0 + j
        pm = p - S if p >= S else p           # its slot x banks + bank
        plan[j, _BETA], plan[j, _AT_SLOT0] = beta, pm < banks
        plan[j, _JA1] = j + S - (pm - beta)   # the bank's next slot-0 round after j
        plan[j, _ROW_FIRST] = row + (1 if p >= S else 0)
    return plan


@njit(cache=True)
def _plan_jump(plan, banks, slots, pos0, row, J):
    """Fill the plan's J-dependent columns for a jump of J rounds."""
    S = banks * slots
    last_q, last_rem = (J - 1) // banks, (J - 1) % banks
    for j in range(min(banks, J)):
        j0 = j if plan[j, _AT_SLOT0] else plan[j, _JA1]  # its first slot-0 round in the jump
        plan[j, _JA] = j0 + S * ((J - 1 - j0) // S) if j0 <= J - 1 else -1  # and its last
        jl = j + banks * (last_q - (1 if j > last_rem else 0))  # its last access
        plan[j, _JL], plan[j, _ROW_LAST] = jl, row + (pos0 + jl) // S


@njit(cache=True)
def stream_jump(tm, bank_state, chan_state, transfer, start_s, cas, bank, slot, row, channels,
                banks, slots, per_chunk, rounds_max, settled):
    """Jump up to `rounds_max` whole rounds from a round start at (bank, slot, row), when the
    conditions above hold. -> (J rounds jumped, misses, conflicts, latest bus end, retry:
    rounds to step before asking again when J is 0)."""
    pos0 = slot * banks + bank
    plan = _round_plan(banks, slots, pos0, row)
    J, retry = _jump_rounds(tm, bank_state, chan_state, transfer, start_s, cas, channels, banks,
                            slots, per_chunk, rounds_max, settled, plan)
    if J == 0:
        return 0, 0, 0, -math.inf, retry
    S = banks * slots
    _plan_jump(plan, banks, slots, pos0, row, J)
    hit_span = (per_chunk - 1) * max(tm.tccd_s, tm.burst_s)
    bus_end, misses, conflicts, top, D = -math.inf, 0, 0, 0.0, 0.0
    steps = np.empty((channels, 2))  # per channel: its last column L0 and its round step D
    for c in range(channels):
        L0 = chan_state[c, CHAN_COL_S]
        if not 0.5 * top <= L0 < top:
            _, _, D, top = _channel_step(L0, cas, tm.burst_s, tm.tccd_s, hit_span)
        steps[c, 0], steps[c, 1] = L0, D
    for j in range(min(banks, J)):  # round j: the first access of its bank in the jump
        beta, at_slot0 = plan[j, _BETA], plan[j, _AT_SLOT0] != 0
        ja1, ja, jl, row_last = plan[j, _JA1], plan[j, _JA], plan[j, _JL], plan[j, _ROW_LAST]
        for c in range(channels):  # the bank's plan is the same on every channel
            b = c * banks + beta
            L0, D = steps[c, 0], steps[c, 1]
            if settled and not at_slot0:  # a hit on the row the transfer left open
                outcome, act = 0, bank_state[b, BANK_ACT_S]
            else:
                _, outcome, act, _ = activate(
                    tm, bank_state[b, BANK_ROW], bank_state[b, BANK_OPENED_BY],
                    bank_state[b, BANK_READY_S], bank_state[b, BANK_ACT_S], transfer, start_s,
                    plan[j, _ROW_FIRST])
            misses += 1 if outcome == 1 else 0
            conflicts += (1 if outcome == 2 else 0) - (1 if at_slot0 else 0)  # _slot0_rounds
            if ja >= ja1:  # activated after the first access: a conflict, as the walk does it
                ready = max(start_s, (L0 + (ja - banks + 1) * D) + tm.tccd_s)
                if ja == ja1:  # the activation before it: the first access's or the state's
                    ready = max(ready, act + tm.tras_s)
                act = ready + tm.trp_s  # (later: tRAS is over by then)
            if outcome or ja >= ja1:
                bank_state[b, BANK_ACT_S], bank_state[b, BANK_OPENED_BY] = act, transfer
            bank_state[b, BANK_READY_S] = (L0 + (jl + 1) * D) + tm.tccd_s
            bank_state[b, BANK_ROW] = row_last
    for c in range(channels):
        last = steps[c, 0] + J * steps[c, 1]
        chan_state[c, CHAN_COL_S] = last
        chan_state[c, CHAN_BUS_FREE_S] = last + cas + tm.burst_s
        bus_end = max(bus_end, chan_state[c, CHAN_BUS_FREE_S])
    conflicts += (_slot0_rounds(pos0 + J, banks, S) - _slot0_rounds(pos0, banks, S)) * channels
    return J, misses, conflicts, bus_end, retry


@njit(cache=True)
def _slot0_rounds(positions, banks, S):
    """Rounds at slot 0 (a conflict on every channel) among positions 0 .. positions - 1,
    position = slot x banks + bank."""
    return (positions // S) * banks + min(positions % S, banks)
