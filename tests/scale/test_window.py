"""A compact program timed on a window of its unit copies (hwsim.simulate_window, issue #15
item 2): the same result as the flat program's run (its rows all flattened, layer reuse on),
on every preset and phase;
the window's rows are the flat program's; the sums in program order are the same floats."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hwsim
import hwsim.simulate_window as simulate_window
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.api.flows import run_model
from hwsim.program_arrays import flatten
from hwsim.program_arrays_window import window_arrays
from hwsim.window_totals import ordered_sum
from isa import Queue
from targets.loader import load_target, preset_names

# tiny-llama's 2 layers repeated: 16 unit copies (2 layers each), room for a band of them
LAYERS = 40
# union of busy intervals (utilisation): f(0) + E x step, another order of the same sum
REL = 1e-12
# presets whose runs the window times (the others: no layer copy, timed DRAM without whole
# DRAM-row moves, channel-local PIM: every row is timed, the flat path itself)
WINDOWED = {"a100", "a100-80gb", "h100", "v100-pcie-16gb", "v100s"}


@pytest.fixture(scope="module")
def model():
    return replace(load_model("tiny-llama"), num_layers=LAYERS)


def _compare(window: dict, flat: dict, path: str = "") -> None:
    """Equal, floats within REL (cycles within 1: round(seconds x clock))."""
    assert type(window) is type(flat), path
    if isinstance(flat, dict):
        assert window.keys() == flat.keys(), path
        for k in flat:
            _compare(window[k], flat[k], f"{path}.{k}")
    elif isinstance(flat, list):
        assert len(window) == len(flat), path
        for i, (w, f) in enumerate(zip(window, flat)):
            _compare(w, f, f"{path}[{i}]")
    elif isinstance(flat, float):
        assert math.isclose(window, flat, rel_tol=REL, abs_tol=1e-300), (path, window, flat)
    else:
        assert window == flat, path


def _used(monkeypatch) -> list:
    """Records whether each window tried gave the result."""
    calls, real = [], simulate_window._simulate

    def spy(*args):
        out = real(*args)
        calls.append(out is not None)
        return out
    monkeypatch.setattr(simulate_window, "_simulate", spy)
    return calls


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_window_equals_the_flat_path(preset, phase, model, monkeypatch):
    """The compact run (window, reuse on) against the flat compile's run: the same seconds,
    cycles, DRAM statistics, bytes, instruction counts and `reuse` report exactly; energy
    and roofline the same floats; utilisation to float rounding."""
    kwargs = dict(phase=phase, seq=48, context=40)
    monkeypatch.setattr(run_model, "COMPACT", False)
    flat = hwsim.simulate(model, preset, **kwargs).to_dict()
    monkeypatch.setattr(run_model, "COMPACT", True)
    calls = _used(monkeypatch)
    window = hwsim.simulate(model, preset, **kwargs).to_dict()
    assert (True in calls) == (preset in WINDOWED), calls
    _compare(window, flat)
    for key in ("seconds", "dram", "bytes", "instructions", "reuse", "energy_breakdown_j",
                "roofline_seconds", "cycles"):
        assert json.dumps(window.get(key)) == json.dumps(flat.get(key)), key


def test_window_detail_is_the_whole_programs(model, monkeypatch):
    """`_detail` (traces, per-op CSV) of a windowed run: every row's times, worked out when
    read, the latest end = the run's seconds."""
    calls = _used(monkeypatch)
    target = load_target("a100")
    program = compile_model(model, Workload(phase="decode", context=40), target,
                            compact=True).program
    from hwsim.simulate import simulate_program
    result = simulate_program(program, target, 1)
    assert calls == [True]
    detail = result["_detail"]
    assert len(detail["end"]) == len(program) == len(detail["arrays"])
    assert float(detail["end"].max()) == result["seconds"]


def test_reuse_off_times_every_row(model, monkeypatch):
    """HWSIM_NO_REUSE: no window (every row simulated)."""
    monkeypatch.setenv("HWSIM_NO_REUSE", "1")
    calls = _used(monkeypatch)
    result = hwsim.simulate(model, "a100", phase="decode", context=40).to_dict()
    assert calls == [] and result["reuse"]["reason"].startswith("switched off")


def test_window_rows_are_the_flat_rows_but_the_band(model):
    """Every row the window keeps is the flat program's row (base row, address, op), in the
    flat order; the band's rows per queue are its copies' unit rows."""
    target = load_target("h100")
    program = compile_model(model, Workload(phase="prefill", seq=48), target,
                            compact=True).program
    lo, hi = 3, 9
    win = window_arrays(program, lo, hi)
    flat = flatten(program)
    a = win.arrays
    kept = []
    for q in Queue:
        band = (hi - lo + 1) * program.unit_rows(q)
        first = int(win.insert[q] - a.queue_start[q])
        start = int(flat.queue_start[q])
        rows = np.arange(start, int(flat.queue_start[q + 1]))
        kept.append(np.concatenate([rows[:first], rows[first + band:]]))
        assert a.queue_start[q + 1] - a.queue_start[q] == len(kept[-1])
    kept = np.concatenate(kept)
    assert np.array_equal(a.src, flat.src[kept])
    assert np.array_equal(a.fields["dram_addr"], flat.fields["dram_addr"][kept])
    names = np.array(a.op_names + [""], object)[a.op_index]
    assert np.array_equal(names, np.array(flat.op_names + [""], object)[flat.op_index[kept]])
    assert win.band_layers == 2 * (hi - lo + 1)  # two layers per unit copy


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40),
       st.lists(st.tuples(st.integers(0, 39), st.integers(0, 6), st.integers(1, 5)),
                max_size=6))
def test_ordered_sum_is_the_sum_in_program_order(values, runs):
    """ordered_sum over pieces (a piece repeated as one object, as the band's copies are)
    gives the float np.cumsum gives over the rows written out one after another."""
    values = np.array(values)
    parts = []
    for first, size, times in runs:
        part = np.arange(first, min(first + size, len(values)))
        parts += [part] * times
    expanded = np.concatenate([values[p] for p in parts]) if parts else np.zeros(0)
    expected = float(np.cumsum(expanded)[-1]) if len(expanded) else 0.0
    assert ordered_sum(parts, values) == expected


@pytest.mark.parametrize("name", ["tiny-opt", "tiny-mixtral", "tiny-deepseek-v2"])
@pytest.mark.parametrize("preset", ["a100", "v100s"])  # the run's group 5 layers, and 1
def test_window_on_other_layer_kinds(name, preset, monkeypatch):
    """LayerNorm + GELU, MoE experts, MLA + shared experts: the windowed run equals the flat
    compile's run (where a window serves)."""
    layer_model = replace(load_model(name), num_layers=LAYERS)
    kwargs = dict(phase="decode", context=40)
    monkeypatch.setattr(run_model, "COMPACT", False)
    flat = hwsim.simulate(layer_model, preset, **kwargs).to_dict()
    monkeypatch.setattr(run_model, "COMPACT", True)
    calls = _used(monkeypatch)
    _compare(hwsim.simulate(layer_model, preset, **kwargs).to_dict(), flat)
    assert True in calls  # the window gave the result (else this compared the flat path)
