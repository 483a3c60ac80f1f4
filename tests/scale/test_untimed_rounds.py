"""Whole rounds of chunks on a memory without a timing table (hwsim.memory.kernel
`_untimed_rounds`) against the chunk-by-chunk walk (`DramModel(memory, stepped=True)`).

The GPU presets' HBM has no timing table: a chunk ends at max(start, its channel's bus end) +
its bursts x burst time. The fast path adds a whole round of chunks per channel at a time, the
same additions per channel in the same order, so every end time, bus end and count must be
equal bit for bit, on random streams that start on any channel, contiguous or strided, and
chained (the buses busy from the transfer before)."""
from functools import lru_cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.memory import DramModel
from hwsim.memory.kernel import N_STATS, S_BURSTS

KIB, MIB = 1 << 10, 1 << 20
UNTIMED = ["a100", "h100", "a100-80gb"]


@lru_cache(maxsize=None)
def _memory(preset):
    t = targets.load_target(preset)
    m = t.memories[t.main_memory]
    assert m.timing is None  # the path under test is the untimed one
    return m


streams = st.lists(st.tuples(
    st.floats(0.0, 30e-6, allow_nan=False),              # start_s
    st.integers(0, 64 * MIB),                            # addr
    st.integers(1, 40),                                  # rows
    st.integers(1, 768 * KIB),                           # row_bytes
    st.sampled_from([0, -1, 2 * MIB, 8 * KIB]),          # stride: 0, row_bytes (-1), strided
    st.booleans()), min_size=1, max_size=6)              # write


@settings(max_examples=80, deadline=None)
@given(preset=st.sampled_from(UNTIMED), calls=streams, aligned=st.booleans())
def test_whole_rounds_equal_the_walk_bit_for_bit(preset, calls, aligned):
    m = _memory(preset)
    chunk = m.channel_interleave_bytes
    fast, walk = DramModel(m), DramModel(m, stepped=True)
    for start, addr, rows, row_bytes, stride, write in calls:
        if aligned:
            addr, row_bytes = addr // chunk * chunk, max(chunk, row_bytes // chunk * chunk)
        stride = row_bytes if stride == -1 else stride
        if stride and stride < row_bytes:
            stride = row_bytes + stride
        call = (start, addr, rows, row_bytes, stride, write)
        assert fast.transfer(*call) == walk.transfer(*call), call
        assert np.array_equal(fast.chan_state, walk.chan_state), call
        assert np.array_equal(fast.stats_array[:N_STATS], walk.stats_array[:N_STATS]), call


def test_a_long_load_ends_at_its_busiest_channel():
    """5 MiB from channel 0 on a100 (hand count): 20,480 chunks of 256 B over 40 channels, 512
    chunks of 8 bursts each per channel, back to back from t = 0: the end is 512 x 8 burst
    times (summed one chunk at a time) plus the memory's extra latency, and 163,840 bursts."""
    m = _memory("a100")
    fast = DramModel(m)
    burst_s = m.burst_bytes / (m.achieved_bandwidth_bytes_per_s / m.channels)
    bus = 0.0
    for _ in range(512):
        bus += 8 * burst_s
    assert fast.transfer(0.0, 0, 1, 5 * MIB, 0, False) == bus + m.latency_s
    assert fast.stats_array[S_BURSTS] == 5 * MIB // m.burst_bytes
