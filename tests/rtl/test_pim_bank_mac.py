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


def _point(mult, row_bytes, eb, trcd, trp, tccd_s, tccd_l, rows=16, nmax=8, mmax=4):
    return {"MULT": mult, "ROW_BYTES": row_bytes, "EB": eb, "ROWS": rows, "NMAX": nmax,
            "MMAX": mmax, "TRCD": trcd, "TRP": trp, "TCCD_S": tccd_s, "TCCD_L": tccd_l}


@pytest.mark.parametrize("params, vectors", [
    (PIM_SMALL, 200),                                  # int8, 8 columns per row
    (_point(3, 12, 1, 1, 1, 1, 1, rows=8, nmax=6, mmax=3), 200),  # odd MULT: columns straddle
    (_point(1, 4, 2, 2, 3, 2, 3, nmax=4, mmax=2), 150),           # one multiplier, int16
    (_point(8, 64, 2, 5, 7, 2, 4), 150),               # int16, 4 columns per row, slow timing
    (NEUPIMS_PIM, 60),                                 # the NeuPIMs preset's bank
], ids=["small-int8", "mult3", "mult1-int16", "mult8-int16", "neupims"])
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
