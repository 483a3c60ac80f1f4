"""The in-order queue engine on hand-built programs."""
import numpy as np
import pytest

from hwsim.memory import DramModel
from hwsim.timing import engine
from targets.memory import OffChipMemory

LD, ST, MM, MV, VEC, SYS = range(6)


def memory(bandwidth=1.0, latency=0.0):
    """One channel, no timing table: a transfer takes bytes / bandwidth + latency."""
    return DramModel(OffChipMemory(type="HBM2", capacity_bytes=1 << 30,
                                   bandwidth_bytes_per_s=bandwidth, channels=1,
                                   banks_per_channel=1, row_bytes=1024, burst_bytes=1,
                                   channel_interleave_bytes=1, latency_s=latency or 1e-30,
                                   row_buffer_policy="open", source="test memory"))


def run(rows, bandwidth=1.0, latency=0.0):
    """rows: (queue, service_s, wait_mask, release_mask, bytes moved), grouped by queue."""
    rows = sorted(rows, key=lambda r: r[0])
    q = np.array([r[0] for r in rows])
    starts = np.searchsorted(q, np.arange(7))
    moved = np.array([r[4] for r in rows])
    mem = {"is_mem": np.isin(q, [LD, ST]), "is_write": q == ST,
           "addr": np.cumsum(np.concatenate([[0], moved[:-1]])), "rows": (moved > 0) * 1,
           "row_bytes": moved, "stride": np.zeros(len(rows), int)}
    return engine.run(starts, np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
                      np.array([r[1] for r in rows], float), mem, memory(bandwidth, latency))


def test_double_buffered_load_compute_pipeline():
    # LD0 LD1 (1 B at 1 B/s: 1 s each) feed MM0 MM1 (2 s each); MM0 frees LD's slot for LD2,
    # which feeds MM2. By hand: LD0 0-1, LD1 1-2, MM0 1-3, MM1 3-5, LD2 waits for MM0: 3-4,
    # MM2 waits for LD2 (4) and MM1 (5): 5-7.
    rows = [(LD, 0.0, 0, 1 << MM, 1), (LD, 0.0, 0, 1 << MM, 1), (LD, 0.0, 1 << MM, 1 << MM, 1),
            (MM, 2.0, 1 << LD, 1 << LD, 0), (MM, 2.0, 1 << LD, 0, 0), (MM, 2.0, 1 << LD, 0, 0)]
    start, end = run(rows)
    assert list(start) == [0, 1, 3, 1, 3, 5]
    assert list(end) == [1, 2, 4, 3, 5, 7]


def test_loads_and_stores_share_the_memory_channel():
    # an LD and an ST of 100 B at 100 B/s with no dependency still share the one channel
    start, end = run([(LD, 0.0, 0, 0, 100), (ST, 0.0, 0, 0, 100)], bandwidth=100.0)
    assert sorted(end) == pytest.approx([1.0, 2.0])


def test_latency_is_paid_by_every_transfer_of_an_in_order_queue():
    # the second LD starts when the first ends (1.5 s): 1.5 + 1 + 0.5
    start, end = run([(LD, 0.0, 0, 0, 100), (LD, 0.0, 0, 0, 100)], bandwidth=100.0,
                     latency=0.5)
    assert list(start) == pytest.approx([0.0, 1.5]) and list(end) == pytest.approx([1.5, 3.0])


def test_deadlock_is_reported():
    with pytest.raises(RuntimeError, match="deadlock"):
        run([(LD, 1.0, 1 << MM, 0, 1), (MM, 1.0, 1 << LD, 0, 0)])
