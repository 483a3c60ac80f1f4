"""The in-order queue engine on hand-built programs."""
import numpy as np
import pytest

from hwsim.timing import engine

LD, ST, MM, MV, VEC, SYS = range(6)


def run(rows, bandwidth=1e9, latency=0.0):
    """rows: (queue, service_s, wait_mask, release_mask, mem_bytes), grouped by queue."""
    rows = sorted(rows, key=lambda r: r[0])
    q = np.array([r[0] for r in rows])
    starts = np.searchsorted(q, np.arange(7))
    service = np.array([r[1] for r in rows], float)
    wait = np.array([r[2] for r in rows])
    release = np.array([r[3] for r in rows])
    moved = np.array([r[4] for r in rows], float)
    is_mem = np.isin(q, [LD, ST])
    return engine.run(starts, wait, release, service, moved, is_mem, bandwidth, latency)


def test_double_buffered_load_compute_pipeline():
    # LD0 LD1 (1 s each, memory pipe 1 B/s x 1 B) feed MM0 MM1 (2 s each); MM0 frees LD's
    # slot for LD2 which feeds MM2. Hand schedule: LD0 0-1, LD1 1-2, MM0 1-3, MM1 3-5,
    # LD2 waits for MM0 (ends 3): 3-4, MM2 waits LD2 (4) and MM1 (5): 5-7.
    rows = [(LD, 0.0, 0, 1 << MM, 1), (LD, 0.0, 0, 1 << MM, 1), (LD, 0.0, 1 << MM, 1 << MM, 1),
            (MM, 2.0, 1 << LD, 1 << LD, 0), (MM, 2.0, 1 << LD, 0, 0), (MM, 2.0, 1 << LD, 0, 0)]
    start, end = run(rows, bandwidth=1.0)
    order = sorted(rows, key=lambda r: r[0])
    assert [r[0] for r in order] == [LD, LD, LD, MM, MM, MM]
    assert list(start) == [0, 1, 3, 1, 3, 5]
    assert list(end) == [1, 2, 4, 3, 5, 7]


def test_loads_share_the_memory_pipe():
    # an LD and an ST of 100 B at 100 B/s with no dependency still serialise on memory
    start, end = run([(LD, 0.0, 0, 0, 100), (ST, 0.0, 0, 0, 100)], bandwidth=100.0)
    assert sorted(end) == [1.0, 2.0]


def test_latency_is_paid_by_every_transfer_of_an_in_order_queue():
    # the second LD starts when the first ends (1.5 s): 1.5 + 1 + 0.5
    start, end = run([(LD, 0.0, 0, 0, 100), (LD, 0.0, 0, 0, 100)], bandwidth=100.0,
                     latency=0.5)
    assert list(start) == [0.0, 1.5] and list(end) == [1.5, 3.0]


def test_deadlock_is_reported():
    with pytest.raises(RuntimeError, match="deadlock"):
        run([(LD, 1.0, 1 << MM, 0, 0), (MM, 1.0, 1 << LD, 0, 0)])
