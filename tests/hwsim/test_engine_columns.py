"""The engine's narrow columns (branch mem8k2): no kernel column without GPU kernels, int32 /
int16 / int8 columns range-checked, layer ids counted in chunks."""
import numpy as np
import pytest

from hwsim.timing import engine
from hwsim.timing.layer_plan import layer_ids
from tests.hwsim.test_engine import LD, MM, ST, memory


def _rows():
    # LD -> MM -> ST chains of 3, 2 B each at 1 B/s, MM 1.5 s
    q = np.array([LD] * 3 + [ST] * 3 + [MM] * 3)
    order = np.argsort(q, kind="stable")
    q = q[order]
    wait = np.where(q == MM, 1 << LD, np.where(q == ST, 1 << MM, 0))
    release = np.where(q == LD, 1 << MM, np.where(q == MM, 1 << ST, 0))
    service = np.where(q == MM, 1.5, 0.0)
    moved = np.where(q == MM, 0, 2)
    mem = {"is_mem": np.isin(q, [LD, ST]), "is_write": q == ST, "addr": np.arange(9) * 64,
           "rows": (moved > 0) * 1, "row_bytes": moved, "stride": np.zeros(9, np.int64)}
    return np.searchsorted(q, np.arange(7)), wait, release, service, mem


def test_no_kernel_column_times_as_every_row_outside_a_kernel():
    # kernel=None (an empty column) against an explicit -1 per row: the same times
    qs, wait, release, service, mem = _rows()
    none = engine.run(qs, wait, release, service, mem, memory())
    minus = engine.run(qs, wait, release, service, mem, memory(), kernel=np.full(9, -1))
    assert np.array_equal(none[0], minus[0]) and np.array_equal(none[1], minus[1])
    # by hand (rows by queue: LD 0-2, ST 3-5, MM 6-8): LD0 0-2, LD1 2-4 on the one channel,
    # MM0 2-3.5 after LD0, ST0 from 3.5 (MM0's token)
    assert (none[0][0], none[1][0], none[0][1], none[1][1]) == (0.0, 2.0, 2.0, 4.0)
    assert (none[0][6], none[1][6], none[0][3]) == (2.0, 3.5, 3.5)


def test_narrow_keeps_values_and_refuses_what_does_not_fit():
    assert engine.narrow(np.array([0, (1 << 24) - 1]), np.int32).tolist() == [0, (1 << 24) - 1]
    same = np.zeros(4, np.int16)
    assert engine.narrow(same, np.int16) is same  # no copy where it is that dtype already
    with pytest.raises(OverflowError):
        engine.narrow(np.array([1 << 31]), np.int32)
    with pytest.raises(OverflowError):
        engine.narrow(np.array([-129]), np.int8)


def test_layer_ids_over_several_chunks_are_numpy_unique():
    rng = np.random.default_rng(7)
    layers = np.sort(rng.integers(-1, 40, 3 * (1 << 16) + 123)).astype(np.int32)
    layers[layers == 17] = -1  # a layer without rows
    expected = np.unique(layers[layers >= 0])
    assert layer_ids(layers).tolist() == expected.tolist()
    assert layer_ids(np.full(5, -1, np.int32)).tolist() == []
