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
def _jump_rounds(tm, bank_state, chan_state, cas, channels, banks, slots, per_chunk,
                 rounds_max):
    """(J, retry): how many rounds all `channels` (the mapped ones) may jump (0: none), and
    after how many stepped rounds to ask again when J is 0."""
    S = banks * slots
    spacing = max(tm.tccd_s, tm.burst_s)
    hit_span = (per_chunk - 1) * spacing  # as the walk computes `hits * spacing_s`
    if tm.trefi_s <= 0.0:
        return 0, 1 << 30
    J = rounds_max
    for c in range(channels):
        L0 = chan_state[c, CHAN_COL_S]
        u, b_r, D, top = _channel_step(L0, cas, tm.burst_s, tm.tccd_s, hit_span)
        if u == 0.0:
            return 0, 1
        margin = (8 * S + 64) * u
        if ((banks - 1) * D + b_r - tm.tccd_s - tm.trp_s - tm.trcd_s <= margin
                or (S - 1) * D + b_r - tm.tras_s - tm.trp_s <= margin
                or (S - banks) * D + tm.tccd_s + tm.trcd_s - tm.tras_s <= margin):
            return 0, 1 << 30  # the bank may bind in this regime: never jump this transfer
        when0 = L0 + b_r
        act = bank_state[c * banks:(c + 1) * banks, BANK_ACT_S].max()
        if act + tm.tras_s + tm.trp_s + tm.trcd_s > when0 - margin:
            return 0, banks
        n = math.floor(when0 / tm.trefi_s)
        if n >= 1.0 and when0 - n * tm.trefi_s < tm.trfc_s:
            return 0, 1  # in a refresh window: step through it
        limit = (n + 1.0) * tm.trefi_s
        room = max(cas + tm.burst_s, tm.tccd_s) + 4 * u
        j = int(min(float(J), (min(limit, top - room) - L0) / D))
        while j > 0 and not (L0 + j * D < limit and L0 + j * D + room < top
                             and math.floor((L0 + (j - 1) * D + b_r) / tm.trefi_s) == n):
            j -= 1
        J = min(J, j)
        if J <= 0:
            return 0, 1
    return J, 1


@njit(cache=True)
def stream_jump(tm, bank_state, chan_state, transfer, start_s, cas, bank, slot, row, channels,
                banks, slots, per_chunk, rounds_max):
    """Jump up to `rounds_max` whole rounds from a round start at (bank, slot, row), when the
    conditions above hold. -> (J rounds jumped, conflicts, latest bus end, retry: rounds to
    step before asking again when J is 0)."""
    J, retry = _jump_rounds(tm, bank_state, chan_state, cas, channels, banks, slots, per_chunk,
                            rounds_max)
    if J == 0:
        return 0, 0, -math.inf, retry
    S = banks * slots
    hit_span = (per_chunk - 1) * max(tm.tccd_s, tm.burst_s)
    pos0 = slot * banks + bank
    bus_end = -math.inf
    for c in range(channels):
        L0 = chan_state[c, CHAN_COL_S]
        D = _channel_step(L0, cas, tm.burst_s, tm.tccd_s, hit_span)[2]
        for beta in range(banks):
            b = c * banks + beta
            j = J - 1 - (pos0 + J - 1 - beta) % banks  # the bank's last access in the jump
            if j < 0:
                continue
            ja = J - 1 - (pos0 + J - 1 - beta) % S   # its last activation (slot 0)
            if ja >= 0:
                if ja >= banks:
                    ready = (L0 + (ja - banks + 1) * D) + tm.tccd_s
                else:
                    ready = bank_state[b, BANK_READY_S]
                x = max(start_s, ready)
                if ja < S:  # the activation before it is the state's
                    x = max(x, bank_state[b, BANK_ACT_S] + tm.tras_s)
                bank_state[b, BANK_ACT_S] = x + tm.trp_s
                bank_state[b, BANK_OPENED_BY] = transfer
            bank_state[b, BANK_READY_S] = (L0 + (j + 1) * D) + tm.tccd_s
            bank_state[b, BANK_ROW] = row + (pos0 + j) // S
        last = L0 + J * D
        chan_state[c, CHAN_COL_S] = last
        chan_state[c, CHAN_BUS_FREE_S] = last + cas + tm.burst_s
        bus_end = max(bus_end, chan_state[c, CHAN_BUS_FREE_S])
    conflicts = _slot0_rounds(pos0 + J, banks, S) - _slot0_rounds(pos0, banks, S)
    return J, conflicts * channels, bus_end, retry


@njit(cache=True)
def _slot0_rounds(positions, banks, S):
    """Rounds at slot 0 (a conflict on every channel) among positions 0 .. positions - 1,
    position = slot x banks + bank."""
    return (positions // S) * banks + min(positions % S, banks)
