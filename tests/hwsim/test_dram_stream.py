"""Long streams in closed form (hwsim.memory.stream) against the chunk-by-chunk walk.

The closed form claims bit-for-bit equality with the walk (`DramModel(memory, stepped=True)`,
itself cross-checked against the plain-Python twin in test_dram.py): every end time, every
entry of the bank and channel state and every counter, on random streams, timing tables and
refresh settings. A second test makes sure the closed form is taken at all (else the equality
would hold trivially).
"""
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.memory import DramModel
from hwsim.memory.kernel import N_STATS

KIB, MIB = 1 << 10, 1 << 20
TIMED = [("neupims", None), ("flightllm-u280", "hbm"), ("flightllm-u280", "ddr"),
         ("flightllm-vhk158", None), ("mllm-npu-sd8gen3", None)]


@lru_cache(maxsize=None)
def _memory(preset, name):
    t = targets.load_target(preset)
    return t.memories[name or t.main_memory]


def _with(preset, name, policy="open", fraction=None, **cycles):
    m = _memory(preset, name)
    timing = m.timing.model_copy(update=cycles) if cycles else m.timing
    update = {"row_buffer_policy": policy, "timing": timing}
    if fraction is not None:
        update["achieved_bandwidth_fraction"] = fraction
    return m.model_copy(update=update)


def _same_after_each(m, calls):
    fast, walk = DramModel(m), DramModel(m, stepped=True)
    for call in calls:
        assert fast.transfer(*call) == walk.transfer(*call), call
        assert np.array_equal(fast.bank_state, walk.bank_state), call
        assert np.array_equal(fast.chan_state, walk.chan_state), call
        assert np.array_equal(fast.stats_array[:N_STATS], walk.stats_array[:N_STATS]), call
    return fast


timings = st.fixed_dictionaries({
    "trefi_cycles": st.integers(300, 12000),   # refresh every few hundred ns to ~10 us
    "trfc_cycles": st.integers(10, 299),       # below the shortest tREFI drawn
    "trcd_cycles": st.integers(2, 40), "trp_cycles": st.integers(2, 40),
    "tras_cycles": st.integers(2, 80), "cl_cycles": st.integers(2, 40),
    "cwl_cycles": st.integers(1, 30), "tccd_s_cycles": st.integers(1, 6)})
streams = st.lists(st.tuples(
    st.floats(0.0, 30e-6, allow_nan=False),              # start_s
    st.integers(0, 6 * MIB),                             # addr (chunk-aligned or not)
    st.integers(1, 3),                                   # rows
    st.integers(1, 1536 * KIB),                          # row_bytes: up to ~1.5 MiB
    st.sampled_from([0, -1, 8 * KIB]),                   # stride: 0, row_bytes (-1), strided
    st.booleans()), min_size=1, max_size=5)              # write


@settings(max_examples=60, deadline=None)
@given(which=st.sampled_from(TIMED), policy=st.sampled_from(["open", "closed"]),
       fraction=st.one_of(st.none(), st.floats(0.2, 1.0)), cycles=st.one_of(st.just({}), timings),
       calls=streams, aligned=st.booleans())
def test_closed_form_equals_the_walk_bit_for_bit(which, policy, fraction, cycles, calls, aligned):
    m = _with(*which, policy, fraction, **cycles)
    chunk = m.channel_interleave_bytes
    fixed = []
    for start, addr, rows, row_bytes, stride, write in calls:
        if aligned:  # the common case of a compiled program: whole chunks
            addr, row_bytes = addr // chunk * chunk, max(chunk, row_bytes // chunk * chunk)
        stride = row_bytes if stride == -1 else stride
        if stride and stride < row_bytes:
            stride = row_bytes + stride
        fixed.append((start, addr, rows, row_bytes, stride, write))
    _same_after_each(m, fixed)


@pytest.mark.parametrize("which", TIMED)
def test_a_long_stream_is_mostly_closed_form(which):
    # 8 MiB contiguous then 8 MiB more right after it, then a 4 MiB write issued at once: the
    # walk is taken only at transfer starts and around refresh windows
    m = _with(*which)
    calls = [(0.0, 0, 1, 8 * MIB, 0, False), (0.0, 8 * MIB, 1, 8 * MIB, 0, False),
             (0.0, 16 * MIB, 64, 64 * KIB, 0, True)]
    fast = _same_after_each(m, calls)
    chunks = (16 + 4) * MIB // m.channel_interleave_bytes
    assert fast.closed_form_chunks > 0.8 * chunks


def test_no_closed_form_when_the_bank_binds():
    # tRAS of 2,000 cycles: every conflict waits for its bank, the regime the closed form
    # assumes (the channel's bus sets the pace) never holds
    m = _with("neupims", None, tras_cycles=2000)
    fast = _same_after_each(m, [(0.0, 0, 1, 4 * MIB, 0, False)])
    assert fast.closed_form_chunks == 0


@pytest.mark.parametrize("which", [("flightllm-u280", "hbm"), ("flightllm-vhk158", None)])
def test_short_jumps_up_to_a_refresh_window_and_the_tail(which):
    # two 1 MiB weight streams, the decode's common transfer: a jump shorter than `banks`
    # rounds goes up to the next refresh window (or binade end) and one covers a tail of a
    # few rounds, so only a transfer's first rounds and those around a window are walked
    # (before: 15-18% of the chunks were walked, these rounds one by one)
    m = _with(*which)
    calls = [(0.0, 0, 1, MIB, 0, False), (0.0, MIB, 1, MIB, 0, False)]
    fast = _same_after_each(m, calls)
    assert fast.closed_form_chunks > 0.9 * 2 * MIB // m.channel_interleave_bytes
