"""The all-pairs layer comparison (hwsim.timing.layer_pairs) against the pair-by-pair loop it
stands in for (hwsim.timing.layer_plan._adjacent_equal, uniform=False): every output, on
layers that are alike and on random changes to any column the engine reads, on a memory with
and without a DRAM timing table."""
import numpy as np
import pytest

from hwsim.memory.kernel import (N_PARAMS, P_BANKS, P_BURST_BYTES, P_CHANNELS,
                                 P_INTERLEAVE_BYTES, P_PAGE_BYTES, P_TIMED)
from hwsim.timing.layer_plan import _adjacent_equal

LAYERS, PER_LAYER = 6, (3, 1, 0, 2, 2, 0)  # rows per layer of each queue
HEAD = 2                                   # rows before the layers on every queue
CHANGED = ("addr", "kernel", "wait", "service", "is_mem", "rows", "stride", "is_write",
           "overlap", "side", "resource")


def _program(rng, timed: bool):
    """Rows of HEAD + LAYERS x PER_LAYER[q] per queue q, every layer a copy of the first with
    its LD / ST addresses moved by one DRAM row period (4 channels x 2 banks x 1024 B)."""
    params = np.zeros(N_PARAMS)
    params[[P_CHANNELS, P_BANKS, P_PAGE_BYTES, P_BURST_BYTES, P_INTERLEAVE_BYTES]] = \
        4, 2, 1024, 32, 256
    params[P_TIMED] = timed
    cols, starts = {}, np.zeros((6, LAYERS + 1), np.int64)
    queue_start = np.concatenate([[0], np.cumsum([HEAD + LAYERS * n for n in PER_LAYER])])
    total = int(queue_start[-1])
    cols["is_mem"] = np.zeros(total, bool)
    for q, n in enumerate(PER_LAYER):
        starts[q] = queue_start[q] + HEAD + np.arange(LAYERS + 1) * n
    one = {"wait": rng.integers(0, 64, total).astype(np.uint8),
           "release": rng.integers(0, 64, total).astype(np.uint8),
           "service": rng.random(total), "resource": rng.integers(-1, 3, total),
           "side": np.zeros(total, np.int64), "overlap": np.zeros(total, bool),
           "is_mem": rng.random(total) < 0.6, "is_write": rng.random(total) < 0.3,
           "rows": rng.integers(1, 4, total), "row_bytes": rng.integers(1, 9, total) * 256,
           "stride": rng.integers(0, 3, total) * 4096, "addr": rng.integers(0, 64, total) * 256,
           "kernel": np.full(total, -1, np.int64)}
    for name, values in one.items():  # every layer as the first, addresses one period on
        out = values.copy()
        for q, n in enumerate(PER_LAYER):
            for k in range(1, LAYERS):
                out[starts[q, k]:starts[q, k] + n] = values[starts[q, 0]:starts[q, 0] + n]
                if name == "addr":
                    out[starts[q, k]:starts[q, k] + n] += k * 8192
        cols[name] = out
    return cols, starts, np.diff(starts, axis=1), params


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
               for x, y in zip(a, b))


@pytest.mark.parametrize("timed", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_all_pairs_at_once_equals_pair_by_pair(timed, seed):
    rng = np.random.default_rng(seed)
    rows, starts, length, params = _program(rng, timed)
    layer_rows = np.concatenate([np.arange(starts[q, 0], starts[q, -1]) for q in range(6)])
    for j in range(seed % 4):  # seed 0, 4, ...: the layers alike
        name = CHANGED[(3 * seed + j) % len(CHANGED)]
        i = rng.choice(layer_rows)
        if rows[name].dtype == bool:
            rows[name][i] = not rows[name][i]
        elif name == "addr":  # an LD / ST's (other rows' addresses are not compared)
            i = rng.choice(layer_rows[rows["is_mem"][layer_rows]])
            rows[name][i] += 32 if seed % 2 else rng.choice([256, 1024, 8192, -8192])
        elif name == "kernel":  # layer k's rows in kernel k (one step per layer), but one
            for q, n in enumerate(PER_LAYER):
                rows[name][starts[q, 0]:starts[q, -1]] = np.repeat(np.arange(LAYERS), n)
            rows[name][i] = rng.choice([-1, 0, 9])
        else:
            rows[name][i] = rows[name][i] + 1
    fast = _adjacent_equal(rows, starts, length, params)
    loop = _adjacent_equal(rows, starts, length, params, uniform=False)
    assert _same(fast, loop)
    if seed % 4 == 0:  # alike layers: every pair equal, moving by one row period
        assert fast[0][1:].all() and fast[3] is None
        assert (fast[4][1:].all() and (fast[5][1:] == 1).all()) if timed else True
