"""Property: on any program of repeated layers, the engine with layer reuse gives the start and
end times of every row that it gives without (hwsim.timing.layer_reuse), whatever the layers'
service times, DRAM transfers (addresses moving per layer by any number of interleave chunks)
and a row of no layer competing for the unit at any time."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.memory import DramModel
from hwsim.timing import engine

LD, MM, VEC, SYS = 0, 2, 4, 5
CHUNK_BYTES = 256  # a100's channel_interleave_bytes (40 channels, no timing table)


@st.composite
def layered_programs(draw):
    n_layers = draw(st.integers(3, 14))
    n_mm = draw(st.integers(1, 4))
    mm_s = draw(st.lists(st.floats(1e-7, 1e-5), min_size=n_mm, max_size=n_mm))
    vec_s = draw(st.lists(st.floats(1e-7, 1e-5), min_size=n_mm, max_size=n_mm))
    load_bytes = draw(st.integers(1, 4096)) * 32
    offset = draw(st.integers(0, 200)) * CHUNK_BYTES  # any chunks: same or other channels
    intruder = draw(st.none() | st.tuples(st.floats(0, 1e-4), st.floats(1e-7, 3e-5)))
    ahead = draw(st.integers(1, 2))
    return n_layers, n_mm, mm_s, vec_s, load_bytes, offset, intruder, ahead


def _build(n_layers, n_mm, mm_s, vec_s, load_bytes, offset, intruder, ahead):
    """Per layer: one LD (releases to MM), n_mm MM rows (the first waits on the LD, each
    releases to VEC), n_mm VEC rows (each waits on MM); MM and VEC share unit 0. The LD of layer
    k waits for the last VEC row of layer k - ahead (its buffer is free). `intruder`: (host
    issue s, service s) of a SYS row of no layer on unit 0."""
    queue, wait, release, service, layer, not_before = [], [], [], [], [], []
    addr = []

    def row(q, w, r, s, k, nb=0.0, a=0):
        queue.append(q), wait.append(w), release.append(r), service.append(s)
        layer.append(k), not_before.append(nb), addr.append(a)
    for k in range(n_layers):
        row(LD, (1 << VEC) if k >= ahead else 0, 1 << MM, 0.0, k, a=4096 + k * (offset + -(-load_bytes // CHUNK_BYTES) * CHUNK_BYTES))
    for k in range(n_layers):
        for i in range(n_mm):
            row(MM, (1 << LD) if i == 0 else 0, 1 << VEC, mm_s[i], k)
    for k in range(n_layers):
        for i in range(n_mm):
            frees = i == n_mm - 1 and k < n_layers - ahead
            row(VEC, 1 << MM, (1 << LD) if frees else 0, vec_s[i], k)
    if intruder:
        row(SYS, 0, 0, intruder[1], -1, nb=intruder[0])
    queue = np.array(queue)
    counts = np.bincount(queue, minlength=6)
    n = len(queue)
    is_mem = queue == LD
    memory_rows = {"is_mem": is_mem, "is_write": np.zeros(n, bool), "addr": np.array(addr),
                   "rows": is_mem.astype(np.int64), "row_bytes": np.where(is_mem, load_bytes, 0),
                   "stride": np.zeros(n, np.int64)}
    resource = np.where(queue == LD, -1, 0)
    return (np.concatenate([[0], np.cumsum(counts)]), np.array(wait), np.array(release),
            np.array(service), memory_rows), resource, np.array(not_before), np.array(layer)


def _times(args, resource, not_before, layers):
    dram = DramModel(targets.load_target("a100").memories["hbm"])
    start, end, report = engine.run_layers(*args, dram, resource=resource,
                                           not_before=not_before, layers=layers)
    return start, end, report, dram.stats


@settings(max_examples=100, deadline=None, derandomize=True)
@given(layered_programs())
def test_reuse_gives_the_times_of_the_full_run(program):
    args, resource, not_before, layers = _build(*program)
    start, end, report, stats = _times(args, resource, not_before, layers)
    full_start, full_end, off, full_stats = _times(args, resource, not_before, "off")
    assert off["layers_reused"] == 0
    np.testing.assert_allclose(start, full_start, rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(end, full_end, rtol=1e-9, atol=1e-18)
    assert stats == full_stats
