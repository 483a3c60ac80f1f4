"""Which decoder layers the engine may time once (hwsim.timing.layer_reuse): the longest run of
layers whose rows are equal on every column the engine reads, from the program's op names.

Addresses may differ by a multiple of channels x channel_interleave_bytes (the same channels,
the same bursts, in the same order, for a memory without a timing table); GPU kernel numbers
by a constant per layer. On a memory with a DRAM timing table (banks with open rows), every
LD / ST of a layer must move by one and the same whole number of DRAM row periods (channels x
banks x row_bytes bytes, `row_period_bytes`) from the layer before, the same number for every
pair of layers in the run: then each burst meets the same channel, bank and column, in a row
`row_shift` further on, and every bank's row hits and conflicts repeat (hwsim.timing.layer_reuse
checks the banks' state and refresh).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hwsim.memory.kernel import (P_BANKS, P_BURST_BYTES, P_CHANNELS, P_INTERLEAVE_BYTES,
                                 P_PAGE_BYTES, P_TIMED)
from hwsim.timing.layer_pairs import adjacent_equal_uniform
from isa import Queue

N_QUEUES = len(Queue)
_LAYER = re.compile(r"L(\d+)\.")
_EXACT = ("wait", "release", "service", "resource", "side", "overlap", "is_mem")
_MEMORY = ("is_write", "rows", "row_bytes", "stride")  # compared on LD / ST rows only


def row_layers(op_index: np.ndarray, op_names: list) -> np.ndarray:
    """Decoder layer of every row from the op names `L<k>.<op>` (-1: not a layer's row)."""
    of_op = np.array([int(m.group(1)) if (m := _LAYER.match(n)) else -1 for n in op_names]
                     + [-1], np.int32)  # index -1 (rows of no op) reads the last entry
    return of_op[op_index]


def layer_ids(layers: np.ndarray) -> np.ndarray:
    """The decoder layers that have rows, ascending (np.unique of the non-negative entries,
    counted instead of sorted; in chunks of rows: no full-length int64 copy)."""
    seen = np.zeros(int(layers.max(initial=-1)) + 1, bool)
    for lo in range(0, len(layers), _CHUNK_ROWS):
        part = layers[lo:lo + _CHUNK_ROWS]
        counts = np.bincount(part[part >= 0])
        seen[:len(counts)] |= counts > 0
    return np.flatnonzero(seen)


_CHUNK_ROWS = 1 << 16


@dataclass
class Plan:
    first: int            # first layer of the identical run
    count: int            # layers in it
    anchor: int           # queue whose layer starts are the checkpoints
    a: np.ndarray         # per queue: first row of the run (queue_start where length is 0)
    length: np.ndarray    # per queue: rows per layer
    kernels: int          # K: kernel numbers grow by this per layer
    layers: int           # layers in the program
    rotating: np.ndarray  # per row: its transfer lands on other channels in the next layer
    group: int = 1        # layers per copied unit (first, count, a, length, kernels: in units)
    end: np.ndarray = None  # per queue: the row after the run's last layer
    row_shift: int = 0    # timed DRAM: DRAM rows every LD / ST moves by per layer


def row_period_bytes(params: np.ndarray) -> int:
    """Bytes after which the address map comes back to the same channel, bank and column, one
    DRAM row further: channels x banks x (whole interleave chunks of a row)."""
    chunk = int(params[P_INTERLEAVE_BYTES])
    return int(params[P_CHANNELS]) * int(params[P_BANKS]) * (int(params[P_PAGE_BYTES]) // chunk
                                                               * chunk)


def plan(rows: dict, layers: np.ndarray, params: np.ndarray, unseen: tuple = (0, 0)):
    """The longest run of identical layers (condition 1), or the reason there is none.
    `unseen` = (layer, n): n identical layers the rows leave out before that layer (a
    window, hwsim.timing.window_reuse): inside the run, they count as its layers."""
    ids = layer_ids(layers)
    n_layers = len(ids)
    if n_layers < 3:
        return f"{n_layers} decoder layer(s): reuse needs at least 3"
    if ids[-1] - ids[0] + 1 != n_layers:
        return "the program's layers are not consecutive"
    base = int(ids[0])  # a pipeline stage's layers need not start at 0
    layers = np.where(layers >= 0, layers - base, -1)
    qs = rows["queue_start"]
    starts = np.zeros((N_QUEUES, n_layers + 1), np.int64)
    for q in range(N_QUEUES):
        lay = layers[qs[q]:qs[q + 1]]
        where = np.flatnonzero(lay >= 0)
        if not len(where):
            starts[q] = qs[q]
            continue
        steps = np.diff(lay[where])
        if np.any(steps < 0) or np.count_nonzero(steps) + 1 != n_layers:
            return f"the layers' rows are not in layer order on queue {Queue(q).name}"
        first = np.searchsorted(lay[where], np.arange(n_layers))
        starts[q, :-1] = qs[q] + where[first]
        starts[q, -1] = qs[q] + where[-1] + 1
    length = np.diff(starts, axis=1)                        # (queues, layers)
    pair_ok, kernel_step, rotating, why, moves, shift = _adjacent_equal(rows, starts, length,
                                                                         params)
    if params[P_TIMED]:
        blocked = pair_ok & ~moves  # layers equal but for where their bursts land
        pair_ok &= moves
        why = (why if not np.any(blocked[1:]) else
               "main memory has a DRAM timing table, and the layers' LD / ST addresses do "
               "not all move by one whole number of DRAM row periods (channels x banks x "
               f"row_bytes = {row_period_bytes(params)} bytes): their bursts meet other "
               "banks and rows")
    best = (0, 0)  # (count, first) of the longest run of layers equal to their predecessor
    k = 0
    while k < n_layers:
        e = k + 1
        while e < n_layers and pair_ok[e] and (e == k + 1 or (kernel_step[e] == kernel_step[k + 1]
                                                              and shift[e] == shift[k + 1])):
            e += 1
        best = max(best, (e - k, -k))
        k = e
    count, first = best[0], -best[1]
    unseen = unseen[1] if base + first < unseen[0] < base + first + count else 0
    if count + unseen < 3:
        return why or "no three identical layers in a row"
    step = length[:, first]
    end = starts[:, first + count]  # the run's end: copies' next rows stay before it
    group = _group(rows, starts[:, first], step, count, params, (count + unseen) // 3)
    if group > 1:  # whole groups of layers land on the same channels: no rotated transfers
        step, count, rotating = step * group, count // group, rotating & False
    return Plan(base + first, count, _anchor(step), starts[:, first], step,
                int(kernel_step[first + 1]) * group, n_layers, rotating, group, end,
                int(shift[first + 1]) * group)


def _anchor(length: np.ndarray) -> int:
    """The queue whose layer starts are the checkpoints: one late in a layer's dataflow
    (stores, then vector ops), so that at its first row of a layer every other queue has left
    the layer before (measured on LLaMA2-7B: 20 of 32 layers copied against 15 with LD)."""
    for q in (Queue.ST, Queue.VEC, Queue.MV, Queue.MM, Queue.SYS, Queue.LD):
        if length[int(q)]:
            return int(q)
    return 0


def _group(rows, a, length, count: int, params, most: int) -> int:
    """1 when every LD / ST moves by whole rounds over the channels from a layer to the next;
    else the fewest layers G (at most `most` and count - 1) after which every one has (an
    address moved by r interleave chunks per layer comes back to its channels after
    C / gcd(r, C) layers); 1 again when there is none."""
    period = int(params[P_CHANNELS]) * int(params[P_INTERLEAVE_BYTES])
    addr = [rows["addr"][a[q]:a[q] + count * length[q]].reshape(count, length[q])
            for q in range(N_QUEUES) if length[q]]
    mem = [rows["is_mem"][a[q]:a[q] + length[q]] for q in range(N_QUEUES) if length[q]]
    for g in range(1, min(most, count - 1) + 1):  # (a window checks at most its own count)
        if all(not np.any((x[g:, m] - x[:-g, m]) % period) for x, m in zip(addr, mem)):
            return g
    return 1


def _adjacent_equal(rows, starts, length, params, uniform: bool = True):
    """(ok[k]: layer k equals layer k-1, kernel step K of that pair, rotating[row]: an LD / ST
    whose address moves from a layer's to the next by whole interleave chunks but not whole
    rounds over the channels (its bursts land on other channels), first reason one is not,
    and on a timed DRAM moves[k]: every LD / ST of layer k moves by one and the same whole
    number of DRAM row periods from layer k-1's, shift[k]: that number of DRAM rows).
    `uniform`: all pairs at once where every layer has as many rows per queue
    (hwsim.timing.layer_pairs); False: pair by pair (the tests compare the two)."""
    n_layers = starts.shape[1] - 1
    ok = np.ones(n_layers, bool)
    ok[0] = False
    step = np.zeros(n_layers, np.int64)
    reason = None
    chunk = int(params[P_INTERLEAVE_BYTES])
    period = int(params[P_CHANNELS]) * chunk
    rotating = np.zeros(len(rows["service"]), bool)
    moves, shift = np.zeros(n_layers, bool), np.zeros(n_layers, np.int64)
    row_period = row_period_bytes(params) if params[P_TIMED] else 0
    if chunk % int(params[P_BURST_BYTES]):
        return (ok & False, step, rotating, "channel interleave is not a whole number of bursts",
                moves, shift)
    if uniform and np.all(length == length[:, :1]):
        return adjacent_equal_uniform(rows, starts, length, _EXACT, _MEMORY, chunk, period,
                                      row_period)
    for k in range(1, n_layers):
        if np.any(length[:, k] != length[:, k - 1]):
            ok[k], reason = False, reason or f"layer {k} has other row counts than layer {k - 1}"
            continue
        cur = [slice(starts[q, k], starts[q, k] + length[q, k]) for q in range(N_QUEUES)
               if length[q, k]]  # layer k's rows per queue, and layer k-1's just before
        prev = [slice(c.start - (c.stop - c.start), c.start) for c in cur]
        mems = [rows["is_mem"][c] for c in cur]
        bad = next((c for c in _EXACT if any(np.any(rows[c][a] != rows[c][b])
                                              for a, b in zip(cur, prev))), None)
        bad = bad or next((c for c in _MEMORY if any(np.any(rows[c][a][m] != rows[c][b][m])
                                                      for a, b, m in zip(cur, prev, mems))), None)
        offsets = [rows["addr"][a] - rows["addr"][b] for a, b in zip(cur, prev)]
        moved = np.concatenate([o[m] for o, m in zip(offsets, mems)])
        if row_period:
            offs = np.unique(moved)
            if len(offs) == 0 or (len(offs) == 1 and offs[0] % row_period == 0):
                moves[k], shift[k] = True, offs[0] // row_period if len(offs) else 0
        if bad is None and np.any(moved % chunk):
            bad = "addr (offset not a multiple of channel_interleave_bytes)"
        for a, o, m in zip(cur, offsets, mems):
            rotating[a][m & (o % period != 0)] = True
        kn, kp = (np.concatenate([rows["kernel"][a] for a in pair]) if len(rows["kernel"])
                  else np.zeros(0, np.int64) for pair in (cur, prev))  # empty: no kernels
        steps = np.unique(kn[kp >= 0] - kp[kp >= 0])
        if bad is None and (np.any((kn < 0) != (kp < 0)) or len(steps) > 1):
            bad = "kernel"
        if bad is not None:
            ok[k], reason = False, reason or f"layer {k} differs from layer {k - 1} in {bad}"
            continue
        step[k] = steps[0] if len(steps) else 0
    return ok, step, rotating, reason, moves, shift
