"""The cross-check can fail: a deliberately wrong cycle formula or rounding mode in the *model*
(patched here, in the process that compares) must be caught by the same RTL run that passes
with the real model."""
from types import SimpleNamespace

import numpy as np
import pytest

from hwsim import unit_models
from rtl_models import units, units_memory
from rtl_models.cosim import cross_check
from tests.rtl.conftest import require

pytestmark = pytest.mark.rtl


def test_systolic_formula_off_by_one_is_caught(rtl_build_root, monkeypatch):
    require("icarus")
    params = {"R": 4, "C": 4}
    good = cross_check(units.SYSTOLIC, params, vectors=200, build_root=rtl_build_root)
    assert good.cycles_match and good.numerics_match
    real = unit_models.systolic_cycles
    monkeypatch.setattr(unit_models, "systolic_cycles", lambda *a, **k: real(*a, **k) + 1)
    bad = cross_check(units.SYSTOLIC, params, vectors=200, build_root=rtl_build_root)
    assert not bad.cycles_match and not bad.passed
    job, rtl, model = bad.cycle_mismatches[0]
    assert model == rtl + 1
    assert bad.numerics_match   # only the formula changed


def test_dsp_chain_without_adjust_stage_is_caught(rtl_build_root, monkeypatch):
    """A model that forgets FlightLLM's overflow-adjust stage (L > 8) is one cycle short."""
    require("icarus")
    params = {"L": 12, "CHAINS": 2, "SP_N": 2, "SP_M": 4}
    monkeypatch.setattr(unit_models, "dsp_chain_cycles",
                        lambda m, n, k, g, chains, length, pack:
                        unit_models.ceil_div(k, length) * unit_models.ceil_div(n, chains) * g
                        * unit_models.ceil_div(m, pack) + length)
    bad = cross_check(units.DSP_CHAIN, params, vectors=200, build_root=rtl_build_root)
    assert not bad.cycles_match
    assert all(model == rtl - 1 for _, rtl, model in bad.cycle_mismatches)


def _requantize_half_even(acc, mult, shift, bits=8):
    """Round half to even instead of half away from zero: the wrong rounding mode."""
    p = np.asarray(acc, np.int64) * np.asarray(mult, np.int64)
    shift = np.asarray(shift, np.int64)
    mag = np.abs(p)
    q = np.right_shift(mag, shift)
    rem = mag - np.left_shift(q, shift)
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 1 << 62)
    q = q + ((rem > half) | ((rem == half) & (q % 2 == 1)))
    return np.clip(np.sign(p) * q, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(np.int8)


def _requantize_truncate(acc, mult, shift, bits=8):
    """Arithmetic shift right (floor) without a rounding term: the other classic mistake."""
    p = np.asarray(acc, np.int64) * np.asarray(mult, np.int64)
    r = np.right_shift(p, np.asarray(shift, np.int64))
    return np.clip(r, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(np.int8)


@pytest.mark.parametrize("wrong", [_requantize_half_even, _requantize_truncate])
def test_requant_rounding_mode_is_caught(wrong, rtl_build_root, monkeypatch):
    require("icarus")
    params = {"LANES": 4}
    good = cross_check(units.VECTOR_REQUANT, params, vectors=400, build_root=rtl_build_root)
    assert good.passed
    monkeypatch.setattr(units.intmath, "requantize", wrong)
    bad = cross_check(units.VECTOR_REQUANT, params, vectors=400, build_root=rtl_build_root)
    assert bad.cycles_match and not bad.numerics_match


def test_pim_formula_without_precharge_is_caught(rtl_build_root, monkeypatch):
    """A pim_cycles that forgets tRP (rows cost tRCD only) is short by m * rows * tRP on every
    GEMV; the unpatched formula passes on the same stimulus."""
    require("icarus")
    params = units.PIM_SMALL
    good = cross_check(units.PIM_BANK_MAC, params, vectors=60, build_root=rtl_build_root)
    assert good.passed
    real = unit_models.pim_cycles

    def no_precharge(m, n, k, groups, timing, **kw):
        t = SimpleNamespace(**{**vars(timing), "trp_cycles": 0})
        return real(m, n, k, groups, t, **kw)

    monkeypatch.setattr(unit_models, "pim_cycles", no_precharge)
    bad = cross_check(units.PIM_BANK_MAC, params, vectors=60, build_root=rtl_build_root)
    assert not bad.cycles_match and not bad.passed and bad.numerics_match
    assert len(bad.cycle_mismatches) == min(bad.jobs, 20)     # every GEMV opens a row
    for job, rtl, model in bad.cycle_mismatches:
        g = units.pim_stimulus(params, np.random.default_rng(0), 60)["gemvs"][job]
        m, rows = len(g["x"]), -(-len(g["w"]) * len(g["w"][0]) * params["EB"] //
                                 params["ROW_BYTES"])
        assert rtl - model == m * rows * params["TRP"]


def test_pim_wrapping_accumulator_is_caught(rtl_build_root, monkeypatch):
    """int16 products overflow int32: a reference that wraps instead of saturating differs."""
    require("icarus")
    params = {**units.PIM_SMALL, "EB": 2, "ROW_BYTES": 64}
    monkeypatch.setattr(units_memory, "pim_reference", lambda w, x: (
        np.asarray(x, np.int64) @ np.asarray(w, np.int64).T).astype(np.int32))
    bad = cross_check(units.PIM_BANK_MAC, params, vectors=40, build_root=rtl_build_root)
    assert bad.cycles_match and not bad.numerics_match


def test_reduce_wrapping_sum_is_caught(rtl_build_root, monkeypatch):
    require("icarus")
    params = {"LANES": 4}
    good = cross_check(units.VECTOR_REDUCE, params, vectors=300, build_root=rtl_build_root)
    assert good.passed
    real = units.reduce_reference
    monkeypatch.setattr(units_memory, "reduce_reference", lambda op, tile: real(op, tile) if op == "max"
                        else np.asarray(tile, np.int64).sum(axis=1).astype(np.int32))
    bad = cross_check(units.VECTOR_REDUCE, params, vectors=300, build_root=rtl_build_root)
    assert bad.cycles_match and not bad.numerics_match
