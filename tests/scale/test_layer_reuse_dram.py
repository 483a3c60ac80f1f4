"""Layer reuse on a memory with a DRAM timing table (hwsim.timing.layer_reuse_dram): the banks'
open rows and times and refresh join the start state. Reuse fires when every LD moves by whole
DRAM row periods and no refresh window can fall differently, gives the times of the full run,
and refuses, saying why, when the addresses or the refresh clock do not repeat."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from hwsim.memory import DramModel
from hwsim.timing import engine
from hwsim.timing.layer_reuse_dram import banks_differ

LD, MM, VEC = 0, 2, 4
# neupims HBM2: 32 channels x 32 banks x 1 KiB rows: the address map repeats every 1 MiB,
# one DRAM row further on (test_dram.py: dram_locate(4 x 32 x 32 x 256) = (0, 0, 1, 0))
ROW_PERIOD = 32 * 32 * 1024


def _memory(trefi_cycles=None):
    m = targets.load_target("neupims").memories["hbm"]
    if trefi_cycles is None:
        return m
    return m.model_copy(update={"timing": m.timing.model_copy(
        update={"trefi_cycles": trefi_cycles})})


def _program(n_layers, mm_s, load_bytes, layer_bytes, base, ahead=1):
    """Per layer: one LD of `load_bytes` at base + k x layer_bytes (releases to MM), MM rows
    of `mm_s` seconds (the first waits on the LD, each releases to VEC), as many VEC rows of
    the same times (each waits on MM); MM and VEC share unit 0. The LD of layer k waits for
    the last VEC row of layer k - ahead."""
    queue, wait, release, service, layer, addr = [], [], [], [], [], []

    def row(q, w, r, s, k, a=0):
        for x, v in ((queue, q), (wait, w), (release, r), (service, s), (layer, k), (addr, a)):
            x.append(v)
    for k in range(n_layers):
        row(LD, (1 << VEC) if k >= ahead else 0, 1 << MM, 0.0, k, base + k * layer_bytes)
    for k in range(n_layers):
        for i, s in enumerate(mm_s):
            row(MM, (1 << LD) if i == 0 else 0, 1 << VEC, s, k)
    for k in range(n_layers):
        for i, s in enumerate(mm_s):
            frees = i == len(mm_s) - 1 and k < n_layers - ahead
            row(VEC, 1 << MM, (1 << LD) if frees else 0, s, k)
    queue = np.array(queue)
    n, is_mem = len(queue), queue == LD
    memory_rows = {"is_mem": is_mem, "is_write": np.zeros(n, bool), "addr": np.array(addr),
                   "rows": is_mem.astype(np.int64), "row_bytes": np.where(is_mem, load_bytes, 0),
                   "stride": np.zeros(n, np.int64)}
    args = (np.concatenate([[0], np.cumsum(np.bincount(queue, minlength=6))]), np.array(wait),
            np.array(release), np.array(service), memory_rows)
    return args, np.where(is_mem, -1, 0), np.array(layer)


def _run(memory, program, layers):
    args, resource, layer_of = program
    dram = DramModel(memory)
    start, end, report = engine.run_layers(*args, dram, resource=resource,
                                           layers=layer_of if layers else "off")
    return start, end, report, dram.stats


def _same(a, b):
    np.testing.assert_allclose(a[0], b[0], rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-18)
    sa, sb = a[3].to_json(), b[3].to_json()
    assert sa.pop("refresh_stall_s") == __import__("pytest").approx(
        sb.pop("refresh_stall_s"), rel=1e-9, abs=1e-18)
    assert sa == sb


def test_reuse_fires_on_a_timed_dram_before_the_first_refresh():
    # 10 layers of a 1.5 MiB LD 1 MiB apart (each leaves open the rows the next one starts in:
    # row hits that a copy must find too), tREFI beyond the run: from layer 2 on the start
    # state repeats, one DRAM row further on
    memory = _memory(trefi_cycles=10 ** 9)
    program = _program(10, [1e-6], 1536 * 1024, ROW_PERIOD, base=0)
    on, off = _run(memory, program, True), _run(memory, program, False)
    assert on[2]["layers_reused"] >= 5, on[2]
    _same(on, off)


def test_reuse_refuses_addresses_that_do_not_move_by_whole_row_periods():
    program = _program(10, [1e-6], 64 * 1024, ROW_PERIOD + 256, base=0)
    on = _run(_memory(trefi_cycles=10 ** 9), program, True)
    assert on[2]["layers_reused"] == 0
    assert "row periods (channels x banks x row_bytes = 1048576 bytes)" in on[2]["reason"]


def test_reuse_refuses_where_refresh_windows_would_fall_elsewhere():
    # the preset's tREFI of 3.9 us against 1.3 us layers: not a whole number of intervals
    program = _program(24, [1.3e-6], 64 * 1024, ROW_PERIOD, base=0)
    on, off = _run(_memory(), program, True), _run(_memory(), program, False)
    assert on[2]["layers_reused"] == 0
    assert "refresh windows run on an absolute clock" in on[2]["reason"]
    _same(on, off)


def test_reuse_fires_when_a_layer_lasts_whole_refresh_intervals():
    # two MM and two VEC rows of 0.975 us on one unit: 3.9 us per layer = tREFI (the LD, two
    # layers ahead, overlaps them), so every layer meets the refresh window at the same point
    program = _program(12, [0.975e-6, 0.975e-6], 256 * 1024, ROW_PERIOD, base=0, ahead=2)
    on, off = _run(_memory(), program, True), _run(_memory(), program, False)
    assert on[2]["layers_reused"] >= 3, on[2]
    _same(on, off)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n_layers=st.integers(3, 12), mm_s=st.lists(st.floats(1e-7, 4e-6), min_size=1, max_size=3),
       load_kib=st.integers(1, 2560), rows_apart=st.integers(-1, 3), extra=st.sampled_from(
           [0, 0, 256, 4096]), trefi=st.sampled_from([None, 10 ** 9, 2000]),
       ahead=st.integers(1, 2))
def test_reuse_on_a_timed_dram_gives_the_times_of_the_full_run(n_layers, mm_s, load_kib,
                                                                rows_apart, extra, trefi, ahead):
    # layers 0 to 3 row periods apart (-1: 1 period), their loads up to 2.5 periods long:
    # a load longer than the distance leaves open the rows the next layer's load starts in
    layer_bytes = ROW_PERIOD * max(rows_apart, 1) if rows_apart else 0
    layer_bytes += extra
    program = _program(n_layers, mm_s, load_kib * 1024, layer_bytes, 8 * ROW_PERIOD, ahead)
    memory = _memory(trefi)
    on, off = _run(memory, program, True), _run(memory, program, False)
    assert off[2]["layers_reused"] == 0
    _same(on, off)


def _banks(t, ready, rows, act):
    ready, act = np.array(ready, float), np.array(act, float)
    return SimpleNamespace(t=t, banks=(ready, np.array(rows, float), np.maximum(ready, t - 1),
                                       np.maximum(act, t - 1), np.zeros(len(rows))))


def test_touched_banks_must_hold_the_row_one_shift_on_and_times_one_layer_later():
    # D = 10, clamps at t - tRP (here t - 1): bank 0 touched (ready 9.8 -> 19.8) with row
    # 3 -> 4, one row on, ready and ACT + tRAS 10 later; bank 1 untouched (ready 2 both times):
    # its row 7 stays, as the copies leave it
    prev = _banks(10.0, [9.8, 2.0], [3, 7], [9.5, 1.0])
    assert banks_differ(prev, _banks(20.0, [19.8, 2.0], [4, 7], [19.5, 1.0]), 1, 1e-9) is None
    assert "bank 0 has another open row" in banks_differ(
        prev, _banks(20.0, [19.8, 2.0], [3, 7], [19.5, 1.0]), 1, 1e-9)
    assert "ready time" in banks_differ(
        prev, _banks(20.0, [19.9, 2.0], [4, 7], [19.5, 1.0]), 1, 1e-9)
    assert "last activation" in banks_differ(
        prev, _banks(20.0, [19.8, 2.0], [4, 7], [19.2, 1.0]), 1, 1e-9)
    # below the clamps every time is the same: ACTs long past (ACT + tRAS 1 and 12) agree
    old = _banks(10.0, [9.8, 2.0], [3, 7], [1.0, 1.0])
    assert banks_differ(old, _banks(20.0, [19.8, 2.0], [4, 7], [12.0, 1.0]), 1, 1e-9) is None
