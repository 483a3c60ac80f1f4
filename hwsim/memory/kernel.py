"""The compiled DRAM kernel: one LD/ST transfer against flat bank and channel state arrays.

Everything here is `numba.njit` and takes plain numpy arrays, so a compiled timing loop can call
`dram_transfer` directly. Times are seconds (float64), addresses and sizes are bytes (int64).

Array layouts (all C-contiguous float64; integers such as rows are stored exactly as floats):

- `params[N_PARAMS]`: the memory's constants, indexed by the `P_*` names below (`dram_params`).
- `bank_state[channels * banks_per_channel, 4]`, bank `b = channel * banks_per_channel + bank`:
  column `BANK_ROW` the open row (-1 when precharged), `BANK_READY_S` the earliest time the bank
  takes its next command, `BANK_ACT_S` the time of its last ACTIVATE (for tRAS),
  `BANK_OPENED_BY` the number of the transfer that activated that row (`stats[S_TRANSFERS]` when
  it ran: transfers are numbered from 0 after a reset; closed-page policy uses it).
- `chan_state[channels, 2]`: `CHAN_BUS_FREE_S` when the channel's data bus is next free,
  `CHAN_COL_S` the time of its last column command (READ or WRITE).
- `stats[STATS_LEN]`: running counts indexed by the `S_*` names (bytes, bursts, row hits...).

Initial state (`reset_state`): rows -1, every time -inf, stats 0.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from hwsim.errors import HwsimError
from hwsim.memory import stream
from hwsim.memory.stream import (BANK_ACT_S, BANK_OPENED_BY, BANK_READY_S, BANK_ROW,  # noqa: F401
                                 CHAN_BUS_FREE_S, CHAN_COL_S, activate)

(P_CHANNELS, P_BANKS, P_PAGE_BYTES, P_BURST_BYTES, P_INTERLEAVE_BYTES, P_BURST_S,
 P_EXTRA_LATENCY_S, P_TIMED, P_CLOSED_PAGE, P_TRCD_S, P_TRP_S, P_TRAS_S, P_CL_S, P_CWL_S,
 P_TCCD_S_S, P_TREFI_S, P_TRFC_S, P_STEPPED) = range(18)
N_PARAMS = 18

(S_TRANSFERS, S_BYTES_READ, S_BYTES_WRITTEN, S_BURSTS, S_ROW_HITS, S_ROW_MISSES, S_ROW_CONFLICTS,
 S_ACTIVATIONS, S_REFRESH_STALLS, S_REFRESH_STALL_S, S_CLOSED_FORM_CHUNKS) = range(11)
N_STATS = 10        # the counts `DramStats` reports
STATS_LEN = 11      # and, after them, the chunks timed in closed form (hwsim.memory.stream)


def dram_params(memory, stepped: bool = False) -> np.ndarray:
    """An `OffChipMemory` -> the float64 `params` array the kernel reads (layout: `P_*`).

    The data bus moves one burst per `burst_bytes / (achieved bandwidth / channels)` seconds
    (achieved = bandwidth_bytes_per_s x achieved_bandwidth_fraction, 1.0 unless measured; a
    channel's share is the peak over all `channels`, and the address map interleaves over the
    `mapped_channels` the design connects).
    With a timing table, the DRAM part of `latency_s` (tRCD + CL, how every preset derives it) is
    already paid by the first burst's activate and CAS latency, so only the excess over it is added
    once per transfer; without one, all of `latency_s` is.
    `stepped`: time every chunk one by one (no closed form for long streams: the reference the
    closed form is tested against).
    """
    p = np.zeros(N_PARAMS)
    p[P_STEPPED] = stepped
    p[P_CHANNELS], p[P_BANKS] = memory.mapped_channels, memory.banks_per_channel
    p[P_PAGE_BYTES], p[P_BURST_BYTES] = memory.row_bytes, memory.burst_bytes
    p[P_INTERLEAVE_BYTES] = memory.channel_interleave_bytes
    p[P_BURST_S] = memory.burst_bytes / (memory.achieved_bandwidth_bytes_per_s / memory.channels)
    p[P_CLOSED_PAGE] = memory.row_buffer_policy == "closed"
    t = memory.timing
    _check_divisors(p, t)
    if t is None:
        p[P_EXTRA_LATENCY_S] = memory.latency_s
        return p
    p[P_TIMED] = 1.0
    p[P_EXTRA_LATENCY_S] = max(0.0, memory.latency_s - (t.trcd_cycles + t.cl_cycles) * t.tck_s)
    for index, cycles in ((P_TRCD_S, t.trcd_cycles), (P_TRP_S, t.trp_cycles),
                          (P_TRAS_S, t.tras_cycles), (P_CL_S, t.cl_cycles),
                          (P_CWL_S, t.cwl_cycles), (P_TCCD_S_S, t.tccd_s_cycles),
                          (P_TREFI_S, t.trefi_cycles), (P_TRFC_S, t.trfc_cycles)):
        p[index] = cycles * t.tck_s
    return p


def _check_divisors(p: np.ndarray, timing) -> None:
    """The kernel divides by these (compiled with error_model="numpy": a zero would give inf or
    a walk that never moves on, not an error). A loaded memory passes targets' validators; one
    built around them (pydantic's model_copy) is refused here, in one line."""
    chunk, burst, page = p[P_INTERLEAVE_BYTES], p[P_BURST_BYTES], p[P_PAGE_BYTES]
    bad = [name for name, ok in (
        ("channels >= 1", p[P_CHANNELS] >= 1), ("banks_per_channel >= 1", p[P_BANKS] >= 1),
        ("burst_bytes <= channel_interleave_bytes", burst >= 1 and chunk // burst >= 1),
        ("channel_interleave_bytes <= row_bytes", chunk >= 1 and page // chunk >= 1),
        ("bandwidth > 0", p[P_BURST_S] > 0 and math.isfinite(p[P_BURST_S])),
        ("trefi_cycles x tck_s > 0", timing is None or timing.trefi_cycles * timing.tck_s > 0))
        if not ok]
    if bad:
        raise HwsimError(f"off-chip memory the DRAM model cannot walk: needs {', '.join(bad)}")


def reset_state(bank_state: np.ndarray, chan_state: np.ndarray, stats: np.ndarray) -> None:
    """All banks precharged, all buses idle since forever, counts zero (in place)."""
    bank_state[:, BANK_ROW] = -1.0
    bank_state[:, BANK_READY_S] = -math.inf
    bank_state[:, BANK_ACT_S] = -math.inf
    bank_state[:, BANK_OPENED_BY] = -1.0
    chan_state[:, CHAN_BUS_FREE_S] = -math.inf
    chan_state[:, CHAN_COL_S] = -math.inf
    stats[:] = 0.0


@njit(cache=True)
def dram_locate(params, addr):
    """Byte address -> (channel, bank, row, column byte): row:column-high:bank:channel:column-low.

    Chunk `addr // interleave` goes to channel `chunk % channels`; successive rounds over the
    channels go to successive banks; successive rounds over the banks fill the next
    `interleave`-byte slot of the same DRAM row, and only then move to the next row.
    """
    channels, banks = np.int64(params[P_CHANNELS]), np.int64(params[P_BANKS])
    interleave = np.int64(params[P_INTERLEAVE_BYTES])
    slots = np.int64(params[P_PAGE_BYTES]) // interleave
    chunk = addr // interleave
    rounds = chunk // channels
    slot_index = rounds // banks
    column = (slot_index % slots) * interleave + addr % interleave
    return chunk % channels, rounds % banks, slot_index // slots, column


# What the per-chunk step reads of `params`, unpacked once per transfer: read from the array, the
# values would be loaded again after every store to the state arrays (which might alias it).
_Timing = namedtuple("_Timing", "tras_s trp_s trcd_s trefi_s trfc_s tccd_s burst_s closed_page "
                     "banks")

# The helpers below are inlined into `dram_transfer` (numba IR inlining): a call per 256-B chunk
# cost more than the chunk's arithmetic. They take and return numbers, never the state arrays:
# an array handed to an inlined helper still has its reference counted (NRT_incref / decref
# calls, an atomic add apiece, twice per chunk: ~21 ns of a chunk's ~28 ns walk). Counters live
# in local variables for the whole transfer and reach `stats` once at its end, so the compiler
# keeps them in registers instead of storing them per chunk; the refresh stall seconds are
# summed in the same order as before, onto the running total, so every result is bit for bit
# the one of a per-chunk update.


@njit(cache=True, inline="always")
def _refresh_interval(trefi, trfc, when_s):
    """(t, n, stalled): t the first time >= when_s outside the all-bank refresh windows
    [n tREFI, n tREFI + tRFC), n >= 1; n = floor(when_s / tREFI), which is also t's refresh
    interval (a stall ends tRFC < tREFI into interval n); stalled: t had to wait."""
    n = math.floor(when_s / trefi)
    if n >= 1.0 and when_s - n * trefi < trfc:
        return n * trefi + trfc, n, True
    return when_s, n, False


@njit(cache=True, inline="always")
def _row_hits(trefi, trfc, col, interval, hits, spacing_s, stalls, stall_s):
    """(column time of the last of `hits` more bursts to the row the burst at `col` opened,
    stalls, stall_s): each follows the previous one by spacing_s = max(tCCD_S, burst time)
    (the bank is ready tCCD_S after a column command, the bus is busy one burst time), computed
    in one step, col + hits * spacing_s, unless the next refresh window starts by then; then one
    burst at a time up to the window. `interval`: floor(col / tREFI). `stalls`, `stall_s`: the
    running refresh-stall count and seconds, returned with this run's stalls added."""
    while hits > 0:
        planned = col + hits * spacing_s
        if planned < (interval + 1.0) * trefi:  # before the next window starts
            return planned, stalls, stall_s
        when = col + spacing_s
        col, interval, stalled = _refresh_interval(trefi, trfc, when)
        if stalled:
            stalls += 1
            stall_s += col - when
        hits -= 1
    return col, stalls, stall_s


@njit(cache=True, inline="always")
def _chunk_columns(tm, col, chan_col_s, chan_bus_free_s, bursts, cas, stalls, stall_s):
    """(last column time, stalls, stall_s) of `bursts` consecutive bursts to one bank row (one
    interleave chunk) whose first may issue at `col` (`stream.activate`), on a channel whose last
    column and bus end are chan_col_s and chan_bus_free_s: the first pays hit, miss or
    conflict, the rest are hits."""
    trefi, trfc, tccd, burst_s = tm.trefi_s, tm.trfc_s, tm.tccd_s, tm.burst_s
    # in order on the channel, tCCD_S apart (no bank groups in the schema: a stream is assumed
    # to alternate them), and no earlier than its data can use the bus
    when = max(col, chan_col_s + tccd, chan_bus_free_s - cas)
    last_col, interval, stalled = _refresh_interval(trefi, trfc, when)
    if stalled:
        stalls += 1
        stall_s += last_col - when
    return _row_hits(trefi, trfc, last_col, interval, bursts - 1, max(tccd, burst_s), stalls,
                     stall_s)


@njit(cache=True, inline="always")
def _untimed_rounds(chan_state, start_s, chunk_s, n, channels):
    """n whole rounds of full chunks over the channels (from any channel: each channel gets n)
    of a memory without a timing table, each chunk back to back on its channel's bus, as the
    chunk-by-chunk step times them (the same additions in the same order per channel: bit for
    bit), the channels side by side so the loop runs at the adds' throughput, not their
    latency. -> the latest bus end."""
    bus = np.empty(channels)
    for c in range(channels):
        bus[c] = chan_state[c, CHAN_BUS_FREE_S]
    for _ in range(n):
        for c in range(channels):
            bus[c] = max(start_s, bus[c]) + chunk_s
    latest = bus[0]
    for c in range(channels):
        chan_state[c, CHAN_BUS_FREE_S] = bus[c]
        latest = max(latest, bus[c])
    return latest


# error_model="numpy": no ZeroDivisionError check around each `//`, `%` and `/` of the walk
# (numba's default "python" model branches to raise one), which made the per-chunk loop about
# three times slower (the 13-instruction neupims GEMM's 7 transfers: 0.47 -> 0.17 ms). The
# results are the same floats: every divisor here is a validated positive field of the memory
# (burst_bytes, channel_interleave_bytes, their ratio, channels, banks, row_bytes / interleave,
# tREFI = trefi_cycles x tck_s), so the check never fired; only a zero would now give inf / 0.
@njit(cache=True, error_model="numpy")
def dram_transfer(params, bank_state, chan_state, stats, start_s, addr, rows, row_bytes, stride,
                  write):
    """One LD (write=False) or ST (write=True) issued at start_s; returns when it completes (s).

    It moves `rows` rows of `row_bytes` bytes, row i starting at `addr + i * stride` (stride 0:
    the rows are contiguous). Each row is cut into the `burst_bytes`-aligned bursts it touches;
    a burst two neighbouring rows share (rows not burst-aligned) is fetched once, for the
    first of them: one request never reads the same burst twice. Bursts are served in address
    order, in order per channel, channels in parallel. Updates
    bank_state, chan_state and stats in place. Returns start_s when there is nothing to move.
    """
    if rows <= 0 or row_bytes <= 0:
        return start_s
    burst_bytes = np.int64(params[P_BURST_BYTES])
    interleave = np.int64(params[P_INTERLEAVE_BYTES])
    per_chunk = interleave // burst_bytes
    timed = params[P_TIMED] != 0.0
    fast = params[P_STEPPED] == 0.0  # closed forms (timed) and whole rounds (untimed) allowed
    jumps = timed and fast
    bytes_moved = rows * row_bytes
    if fast and rows > 1 and (stride == 0 or stride == row_bytes) and addr % interleave == 0 \
            and row_bytes % interleave == 0:
        # contiguous rows that start on chunk boundaries: the walk makes the same chunk calls
        # for them as for one row of all their bytes, which may take the closed form
        rows, row_bytes, stride = 1, rows * row_bytes, 0
    step = stride if stride > 0 else row_bytes
    cas = params[P_CWL_S] if write else params[P_CL_S]
    transfer = stats[S_TRANSFERS]
    end_s = start_s
    channels, banks = np.int64(params[P_CHANNELS]), np.int64(params[P_BANKS])
    slots = np.int64(params[P_PAGE_BYTES]) // interleave
    tm = _Timing(params[P_TRAS_S], params[P_TRP_S], params[P_TRCD_S], params[P_TREFI_S],
                 params[P_TRFC_S], params[P_TCCD_S_S], params[P_BURST_S],
                 params[P_CLOSED_PAGE] != 0.0, banks)
    bursts, misses, conflicts, closed_form = 0, 0, 0, 0  # every other burst is a row hit
    stalls, stall_s = 0, stats[S_REFRESH_STALL_S]
    fetched = np.int64(-1)  # the last burst this transfer has read
    round_bursts = channels * per_chunk
    for i in range(rows):
        row_start = addr + i * step
        burst, last = row_start // burst_bytes, (row_start + row_bytes - 1) // burst_bytes
        burst = max(burst, fetched + 1)
        if burst > last:
            continue
        fetched = last
        channel, bank, row, column = dram_locate(params, burst * burst_bytes)
        slot = column // interleave
        chunk_end = (burst // per_chunk + 1) * per_chunk  # the first chunk may start mid-way
        rounds, retry = 0, 0  # rounds begun at channel 0; when to try a jump next
        while burst <= last:  # one chunk (one channel, bank and row) per pass
            n = 0  # whole rounds over the channels done at once, from channel 0
            if jumps and channel == 0 and rounds >= retry and burst % per_chunk == 0 \
                    and last + 1 - burst >= 2 * round_bursts:
                n, jumped_misses, jumped_conflicts, bus_end, wait = stream.stream_jump(
                    tm, bank_state, chan_state, transfer, start_s, cas, bank, slot, row, channels,
                    banks, slots, per_chunk, (last + 1 - burst) // round_bursts,
                    rounds > banks * slots)
                retry = rounds + wait
                if n > 0:
                    retry = rounds + n + 1
                    end_s = max(end_s, bus_end)
                    misses += jumped_misses
                    conflicts += jumped_conflicts
                    closed_form += n * channels
            elif fast and not timed and burst % per_chunk == 0 \
                    and last + 1 - burst >= round_bursts:
                n = (last + 1 - burst) // round_bursts
                end_s = max(end_s, _untimed_rounds(chan_state, start_s, per_chunk * tm.burst_s,
                                                   n, channels))
            if n > 0:  # the walk's place n rounds on: n more banks, wrapping into slots, rows
                bursts += n * round_bursts
                burst, chunk_end = burst + n * round_bursts, chunk_end + n * round_bursts
                position = slot * banks + bank + n
                bank, slot = position % banks, (position // banks) % slots
                row += position // (banks * slots)
                rounds += n
                continue
            count = min(last + 1, chunk_end) - burst
            if timed:
                # the bank's and channel's state read and written here (helpers: numbers only)
                b = channel * banks + bank
                col, outcome, act, opener = activate(
                    tm, bank_state[b, BANK_ROW], bank_state[b, BANK_OPENED_BY],
                    bank_state[b, BANK_READY_S], bank_state[b, BANK_ACT_S], transfer, start_s,
                    row)
                bank_state[b, BANK_ACT_S], bank_state[b, BANK_OPENED_BY] = act, opener
                last_col, stalls, stall_s = _chunk_columns(
                    tm, col, chan_state[channel, CHAN_COL_S],
                    chan_state[channel, CHAN_BUS_FREE_S], count, cas, stalls, stall_s)
                done = last_col + cas + tm.burst_s
                chan_state[channel, CHAN_BUS_FREE_S], chan_state[channel, CHAN_COL_S] = \
                    done, last_col
                bank_state[b, BANK_READY_S], bank_state[b, BANK_ROW] = last_col + tm.tccd_s, row
                misses += outcome == 1
                conflicts += outcome == 2
            else:  # back to back on the channel's bus
                done = max(start_s, chan_state[channel, CHAN_BUS_FREE_S]) \
                    + count * tm.burst_s
                chan_state[channel, CHAN_BUS_FREE_S] = done
            end_s = max(end_s, done)
            bursts += count
            burst, chunk_end = burst + count, chunk_end + per_chunk
            # the next chunk's place, as dram_locate gives it, without its divisions
            channel += 1
            if channel == channels:
                channel, bank, rounds = 0, bank + 1, rounds + 1
                if bank == banks:
                    bank, slot = 0, slot + 1
                    if slot == slots:
                        slot, row = 0, row + 1
    if timed:
        stats[S_ROW_HITS] += bursts - misses - conflicts
    stats[S_ROW_MISSES] += misses
    stats[S_ROW_CONFLICTS] += conflicts
    stats[S_ACTIVATIONS] += misses + conflicts
    stats[S_REFRESH_STALLS] += stalls
    stats[S_REFRESH_STALL_S] = stall_s
    stats[S_BURSTS] += bursts
    stats[S_TRANSFERS] += 1.0
    stats[S_BYTES_WRITTEN if write else S_BYTES_READ] += bytes_moved
    stats[S_CLOSED_FORM_CHUNKS] += closed_form
    return end_s + params[P_EXTRA_LATENCY_S]
