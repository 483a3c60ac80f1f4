"""PIM bank MAC RTL (rtl_models/pim_bank_mac.v, NeuPIMs / Newton: MULT multipliers + adder tree
per bank fed from a ROW_BYTES row buffer) vs hwsim.unit_models.pim_cycles for one bank and a
numpy int64 GEMV saturated to int32: every GEMV's cycles from its first query vector to its last
result equal m * ((tCCD_S + tCCD_L) * 32 + rows * (tRCD + tRP) + ceil(n*k / MULT) * tCCD_L), and
every result is bit-exact (int8 / int16 operands; NeuPIMs itself computes in FP16)."""
import pytest

from rtl_models.cosim import cross_check
from rtl_models.units import NEUPIMS_PIM, PIM_BANK_MAC, PIM_SMALL
from tests.rtl.conftest import assert_passed, require

pytestmark = pytest.mark.rtl


def _point(mult, row_bytes, eb, trcd, trp, tccd_s, tccd_l, rows=16, nmax=8, mmax=4, segs=1):
    return {"MULT": mult, "ROW_BYTES": row_bytes, "EB": eb, "ROWS": rows, "NMAX": nmax,
            "MMAX": mmax, "TRCD": trcd, "TRP": trp, "TCCD_S": tccd_s, "TCCD_L": tccd_l,
            "SEGS": segs}


@pytest.mark.parametrize("params, vectors", [
    (PIM_SMALL, 200),                                  # int8, 8 columns per row
    (_point(3, 12, 1, 1, 1, 1, 1, rows=8, nmax=6, mmax=3), 200),  # odd MULT: columns straddle
    (_point(1, 4, 2, 2, 3, 2, 3, nmax=4, mmax=2), 150),           # one multiplier, int16
    (_point(8, 64, 2, 5, 7, 2, 4), 150),               # int16, 4 columns per row, slow timing
    (NEUPIMS_PIM, 60),                                 # the NeuPIMs preset's bank
    (_point(4, 32, 1, 3, 2, 1, 2, rows=24, segs=3), 120),  # k up to 3 GWRITE segments
], ids=["small-int8", "mult3", "mult1-int16", "mult8-int16", "neupims", "segments3"])
def test_pim_bank_mac_icarus(params, vectors, rtl_build_root):
    require("icarus")
    result = cross_check(PIM_BANK_MAC, params, sim="icarus", seed=params["MULT"] * 7 + 1,
                         vectors=vectors, build_root=rtl_build_root)
    assert result.vectors >= vectors
    assert_passed(result)


def test_pim_bank_mac_verilator(rtl_build_root):
    require("verilator")
    result = cross_check(PIM_BANK_MAC, NEUPIMS_PIM, sim="verilator", seed=16, vectors=200,
                         build_root=rtl_build_root)
    assert_passed(result)


def test_neupims_point_is_the_preset():
    """The NeuPIMs point uses the preset's multipliers, row size and DRAM timing, and the
    element size hwsim's service model charges (2 bytes)."""
    from targets.loader import load_target

    target = load_target("neupims")
    unit = target.units["pim"]
    memory = target.memories[unit.memory]
    t = memory.timing
    assert (NEUPIMS_PIM["MULT"], NEUPIMS_PIM["ROW_BYTES"], NEUPIMS_PIM["EB"]) == \
        (unit.multipliers_per_bank, memory.row_bytes, 2)
    assert (NEUPIMS_PIM["TRCD"], NEUPIMS_PIM["TRP"], NEUPIMS_PIM["TCCD_S"],
            NEUPIMS_PIM["TCCD_L"]) == (t.trcd_cycles, t.trp_cycles, t.tccd_s_cycles,
                                       t.tccd_l_cycles)


def test_pim_large_k_runs_in_gwrite_segments(rtl_build_root):
    """k = 1024 fp16-sized elements on the NeuPIMs bank (16 multipliers: the global buffer holds
    32 x 16 = 512): two GWRITEs per query vector. By hand, per segment of 512 elements of one
    output: GWRITE (1 + 2) x 32 = 96, one 1 KiB row 14 + 14 = 28, 512 / 16 = 32 dots x 2 = 64:
    188 cycles; the query costs 2 x 188 = 376 (one GWRITE for all of k would claim 280)."""
    require("icarus")
    from types import SimpleNamespace

    import numpy as np

    from hwsim.unit_models import pim_cycles
    timing = SimpleNamespace(trcd_cycles=14, trp_cycles=14, tccd_s_cycles=1, tccd_l_cycles=2)
    assert int(pim_cycles(1, 1, 1024, 1, timing, 1, 16, 1024, 2)) == 376
    params = {**NEUPIMS_PIM, "SEGS": 2}
    result = cross_check(PIM_BANK_MAC, params, sim="icarus", seed=5, vectors=12,
                         build_root=rtl_build_root)
    assert_passed(result)
    assert result.rtl_cycles >= 376 * 2   # the two-segment GEMVs ran (and were charged) in full
    del np
