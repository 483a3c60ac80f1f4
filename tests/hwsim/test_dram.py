"""The banked DRAM model: hand-worked timings, bandwidth limits, policies, and a twin cross-check.

Expected values are worked out here from the preset timing tables, not by calling the model.
neupims HBM2 (the hand cases): tCK 1 ns; CL 14, CWL 4, tRCD 14, tRP 14, tRAS 34, tCCD_S 1,
tRFC 260, tREFI 3900 cycles; 32 channels x 32 banks, 1 KiB rows, 64 B bursts, 256 B interleave;
1024 GB/s / 32 channels = 32 GB/s, so one 64 B burst holds a channel's data bus 2 ns;
latency_s 28 ns = (tRCD + CL) tCK, so nothing is added on top of the timing table.
"""
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.errors import HwsimError
from hwsim.memory import DramModel, DramStats, dram_locate
from hwsim.memory.kernel import CHAN_BUS_FREE_S
from hwsim.memory.reference import ReferenceDram

NS = 1e-9
KIB, MIB = 1 << 10, 1 << 20


@lru_cache(maxsize=None)
def _target(preset):
    return targets.load_target(preset)


def memory(preset, name=None, **changes):
    t = _target(preset)
    m = t.memories[name or t.main_memory]
    return m.model_copy(update=changes) if changes else m


@pytest.fixture
def neupims():
    return DramModel(memory("neupims"))


def test_address_mapping_by_hand(neupims):
    # 256 B chunks rotate over 32 channels, rounds over channels rotate over 32 banks, rounds
    # over banks fill the 4 256-B slots of a 1 KiB row, then the row number grows
    p = neupims.params
    assert dram_locate(p, 0) == (0, 0, 0, 0)
    assert dram_locate(p, 256) == (1, 0, 0, 0)
    assert dram_locate(p, 32 * 256) == (0, 1, 0, 0)
    assert dram_locate(p, 32 * 32 * 256) == (0, 0, 0, 256)
    assert dram_locate(p, 4 * 32 * 32 * 256) == (0, 0, 1, 0)  # 1 MiB: next row, same bank
    assert dram_locate(p, MIB + 3 * 8192 + 5 * 256 + 17) == (5, 3, 1, 17)


def test_same_row_stream_is_one_miss_then_hits(neupims):
    # 16 bursts in row 0 of channel 0 bank 0: 4 rows of 256 B, 256 KiB apart (the row's 4 slots).
    # burst 0, miss: ACT at 0, column at tRCD = 14, data 14 + CL = 28 .. 30 ns.
    # burst i, hit: column = max(previous + tCCD_S, bus free - CL) = previous + 2 (the bus, not
    # tCCD_S = 1, is the limit), data ends 30 + 2i. Last, i = 15: 60 ns = (tRCD + CL) + 16 x 2.
    end = neupims.transfer(0.0, 0, rows=4, row_bytes=256, stride=256 * KIB)
    assert end == pytest.approx(60 * NS, rel=1e-12)
    s = neupims.stats
    assert (s.bursts, s.row_misses, s.row_hits, s.row_conflicts, s.activations) == (16, 1, 15, 0, 1)
    assert s.bytes_read == 1024 and s.bytes_written == 0


def test_same_row_write_stream_uses_cwl(neupims):
    # as above with CWL = 4 for CL: burst 0 data ends 14 + 4 + 2 = 20 ns, then every 2 ns: 50 ns
    end = neupims.transfer(0.0, 0, rows=4, row_bytes=256, stride=256 * KIB, write=True)
    assert end == pytest.approx(50 * NS, rel=1e-12)
    assert neupims.stats.bytes_written == 1024


def test_alternating_rows_of_one_bank_conflict_every_time(neupims):
    # 16 one-burst LDs, all issued at 0, alternating row 0 (addr 0) and row 1 (addr 1 MiB) of
    # channel 0 bank 0. Burst 0: miss, ACT 0, data ends 30 ns. Burst i: conflict; PRE waits for
    # ACT + tRAS (34, later than the bank's column + tCCD_S = ACT + 15), then tRP: ACT_i =
    # ACT_(i-1) + tRAS + tRP = 48 i ns; data ends ACT_i + tRCD + CL + 2 = 48 i + 30 ns.
    ends = [neupims.transfer(0.0, (i % 2) * MIB, 1, 64) for i in range(16)]
    assert ends == pytest.approx([(48 * i + 30) * NS for i in range(16)], rel=1e-12)
    s = neupims.stats
    assert (s.row_misses, s.row_conflicts, s.row_hits, s.activations) == (1, 15, 0, 16)


def test_distinct_rows_of_one_bank_in_one_transfer_conflict_too(neupims):
    # rows 1 MiB apart: rows 0..15 of channel 0 bank 0, same closed form, 48 x 15 + 30 = 750 ns
    assert neupims.transfer(0.0, 0, 16, 64, stride=MIB) == pytest.approx(750 * NS, rel=1e-12)
    assert neupims.stats.row_conflicts == 15


def test_refresh_window_blocks_the_column(neupims):
    # one burst at 3900 ns = 1 x tREFI: ACT at 3900, column due at 3914 lies inside the refresh
    # window [3900, 4160), so it waits until 4160: data ends 4160 + 14 + 2 = 4176 ns, 246 ns stall
    assert neupims.transfer(3900 * NS, 0, 1, 64) == pytest.approx(4176 * NS, rel=1e-12)
    assert neupims.stats.refresh_stalls == 1
    assert neupims.stats.refresh_stall_s == pytest.approx(246 * NS, rel=1e-9)
    # 14 ns earlier the column lands at 4160 exactly, outside the window: same end, no stall
    neupims.reset()
    assert neupims.transfer(4146 * NS, 0, 1, 64) == pytest.approx(4176 * NS, rel=1e-12)
    assert neupims.stats.refresh_stalls == 0


def test_u280_hbm_streams_at_bandwidth_less_refresh():
    # Expectation: a long contiguous read is data-bus bound (one 32 B burst per 2.226 ns per
    # channel, the column spacing tCCD_S = 1.111 ns is shorter, row openings overlap other banks'
    # data), and loses tRFC of every tREFI to all-bank refresh:
    # 460 GB/s x (1 - 260 / 3510) = 425.9 GB/s, within 2 %.
    # (the bank model alone: all 32 channels connected, no port efficiency)
    n = 64 * MIB
    end = DramModel(memory("flightllm-u280", connected_channels=None,
                           achieved_bandwidth_fraction=1.0)).transfer(0.0, 0, 1, n)
    assert n / end == pytest.approx(460e9 * (1 - 260 / 3510), rel=0.02)


def test_a100_without_timing_streams_at_the_achieved_fraction_of_datasheet_bandwidth():
    # no timing table: bytes / (0.83 x 1555 GB/s over the 40 channels touched) + 28 ns, within 2 %
    n = 64 * MIB
    end = DramModel(memory("a100")).transfer(0.0, 0, 1, n)
    assert n / end == pytest.approx(0.83 * 1555e9, rel=0.02)


def test_without_timing_one_burst_is_bus_time_plus_latency():
    # 32 B over one channel of 0.83 x 1555 GB/s / 40 (the achieved fraction), then 28 ns
    model = DramModel(memory("a100"))
    assert model.transfer(0.0, 0, 1, 32) == pytest.approx(32 / (0.83 * 1555e9 / 40) + 28 * NS,
                                                          rel=1e-12)


def test_closed_page_costs_more_than_open_page_on_a_stream():
    # 64 dependent 64 B LDs at consecutive addresses (each issued when the last one ends): 16
    # chunks of 4 bursts, each chunk on a fresh bank. Open page, per chunk: a miss (30 ns) then
    # three hits (column at once: 14 + 2 = 16 ns each) = 78 ns; 16 x 78 = 1248 ns.
    # Closed page: each LD is a new transfer, so the row was precharged after the previous one:
    # the next ACT waits for ACT + tRAS + tRP = 48 ns after the last, a chunk takes 30 + 3 x 48 =
    # 174 ns; 16 x 174 = 2784 ns. (Both stay below tREFI = 3900 ns: no refresh.)
    ends = {}
    for policy in ("open", "closed"):
        model, t = DramModel(memory("neupims", row_buffer_policy=policy)), 0.0
        for i in range(64):
            t = model.transfer(t, 64 * i, 1, 64)
        ends[policy] = t
    assert ends["open"] == pytest.approx(1248 * NS, rel=1e-12)
    assert ends["closed"] == pytest.approx(2784 * NS, rel=1e-12)


def test_closed_page_keeps_the_row_within_one_transfer():
    # one transfer's queued bursts to an open row are hits under either policy: same 60 ns as the
    # open-page same-row stream above
    model = DramModel(memory("neupims", row_buffer_policy="closed"))
    assert model.transfer(0.0, 0, 4, 256, stride=256 * KIB) == pytest.approx(60 * NS, rel=1e-12)


def test_bad_transfers_name_the_values():
    model = DramModel(memory("neupims"))
    with pytest.raises(HwsimError, match="^DRAM transfer needs addr >= 0, stride >= 0, rows >= 1 "
                       "and row_bytes >= 1, not addr=-1, stride=0, rows=1, row_bytes=64$"):
        model.transfer(0.0, -1, 1, 64)
    with pytest.raises(HwsimError, match="^DRAM transfer ends at byte 34359738432, past the "
                       "memory's capacity_bytes 34359738368$"):
        model.transfer(0.0, 32 << 30, 1, 64)


def test_interleave_must_fit_bursts_and_rows():
    with pytest.raises(targets.TargetError, match="channel_interleave_bytes 96 must be a multiple "
                       "of burst_bytes 64 and divide row_bytes 1024$"):
        targets.load_target("neupims", ["memories.hbm.channel_interleave_bytes=96"])


def test_stats_add_and_reset():
    a = DramStats(transfers=1, bytes_read=64, refresh_stall_s=1e-9)
    assert (a + a).to_json()["bytes_read"] == 128 and (a + a).refresh_stall_s == 2e-9
    model = DramModel(memory("neupims"))
    model.transfer(0.0, 0, 1, 64)
    model.reset()
    assert model.stats == DramStats()
    assert model.transfer(0.0, 0, 1, 64) == pytest.approx(30 * NS, rel=1e-12)  # miss again


MEMORIES = [("neupims", None, "open"), ("neupims", None, "closed"),
            ("flightllm-u280", "hbm", "open"), ("flightllm-u280", "ddr", "closed"),
            ("flightllm-vhk158", None, "open"), ("mllm-npu-sd8gen3", None, "open"),
            ("a100", None, "open")]
transfers = st.lists(st.tuples(
    st.floats(0.0, 20e-6, allow_nan=False),          # start_s (crosses refresh windows)
    st.integers(0, 4 * MIB),                         # addr
    st.integers(1, 6),                               # rows
    st.integers(1, 2048),                            # row_bytes
    st.one_of(st.just(0), st.integers(1, 2 * MIB)),  # stride
    st.booleans()), min_size=1, max_size=12)         # write


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(MEMORIES), calls=transfers)
def test_kernel_agrees_with_python_twin_exactly(which, calls):
    agree_with_twin(which, calls)


def agree_with_twin(which, calls):
    """Kernel and twin give the same end time for every call and the same counters after it."""
    preset, name, policy = which
    m = memory(preset, name, row_buffer_policy=policy)
    model, twin = DramModel(m), ReferenceDram(m)
    for call in calls:
        assert model.transfer(*call) == twin.transfer(*call)
        assert model.stats.to_json() == twin.counts


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(MEMORIES), calls=transfers)
def test_time_moves_forward_and_bytes_are_counted(which, calls):
    preset, name, policy = which
    m = memory(preset, name, row_buffer_policy=policy)
    model = DramModel(m)
    one_burst_s = m.burst_bytes / m.channel_bandwidth_bytes_per_s
    for start, addr, rows, row_bytes, stride, write in calls:
        bus_before = model.chan_state[:, CHAN_BUS_FREE_S].copy()
        end = model.transfer(start, addr, rows, row_bytes, stride, write)
        assert end >= start + one_burst_s
        assert all(model.chan_state[:, CHAN_BUS_FREE_S] >= bus_before)
    s = model.stats
    assert s.bytes_read + s.bytes_written == sum(c[2] * c[3] for c in calls)
    assert s.row_hits + s.row_misses + s.row_conflicts == (s.bursts if m.timing else 0)


@settings(max_examples=200, deadline=None)
@given(which=st.sampled_from(MEMORIES), addr=st.integers(0, 8 << 30))
def test_address_mapping_agrees_with_twin(which, addr):
    m = memory(which[0], which[1])
    assert dram_locate(DramModel(m).params, addr) == ReferenceDram(m).locate(addr)


long_transfers = st.lists(st.tuples(
    st.floats(0.0, 40e-6, allow_nan=False),          # start_s (crosses refresh windows)
    st.integers(0, 8 * MIB),                         # addr
    st.integers(1, 3),                               # rows
    st.integers(32 * KIB, 320 * KIB),                # row_bytes: past a whole round of slots
    st.one_of(st.just(0), st.integers(1, 4 * MIB)),  # stride
    st.booleans()), min_size=1, max_size=4)          # write


@settings(max_examples=40, deadline=None)
@given(which=st.sampled_from(MEMORIES), calls=long_transfers)
def test_long_transfers_agree_with_twin_after_every_call(which, calls):
    """Transfers of up to ~1 MiB: thousands of chunks, the kernel's incremental walk over
    channels, banks, row slots and rows (and its counters, kept locally until the transfer ends)
    against the twin, which locates every chunk from its address and counts per burst."""
    agree_with_twin(which, calls)


def test_a_burst_two_rows_share_is_fetched_once():
    # Found by tests/invariants (context monotonicity on h100): 4 contiguous 144 B rows from
    # address 0 touch bursts 0-2, 2-4, 4-6, 6-8 of 64 B; the span is 576 B = 9 bursts, so the
    # transfer reads 9 bursts (not 12) and ends when one 576 B row would.
    rows = DramModel(memory("neupims"))
    one = DramModel(memory("neupims"))
    end = rows.transfer(0.0, 0, 4, 144)
    assert rows.stats.bursts == 9
    assert end == pytest.approx(one.transfer(0.0, 0, 1, 576), rel=1e-12)
    # rows 200 B apart with a 56 B gap: bursts 0-2 and 3-5 share none; all 6 are read
    gap = DramModel(memory("neupims"))
    gap.transfer(0.0, 0, 2, 144, stride=200)
    assert gap.stats.bursts == 6
