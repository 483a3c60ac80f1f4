"""isa.verify's quick per-instruction check (`_passes_quickly`) against the three checks that
name a problem (`_check_shape`, `_check_unit`, `_check_bounds`): it passes an instruction only
when all three pass it, and for a dense instruction it passes exactly those (N:M and block
sparse rows always take the full checks)."""
import importlib

from hypothesis import given, reject, settings
from hypothesis import strategies as st

import targets
from isa import Instruction, IsaError

V = importlib.import_module("isa.verify")  # isa.verify is the function
RESOURCES = [targets.load_target(name).isa_resources() for name in ("flightllm-u280", "neupims")]
SIZES = st.sampled_from([0, 1, 2, 16, 100, 4096, 1 << 17, 1 << 20])


def _full_checks_pass(instr, res) -> bool:
    try:
        V._check_shape(instr, "x")
        if res is not None:
            V._check_unit(instr, "x", res)
            V._check_bounds(instr, "x", res)
    except IsaError:
        return False
    return True


def _made(kind, **fields):
    try:  # a value too wide for its field is not an instruction at all
        return Instruction(kind, **fields)
    except IsaError:
        reject()


@st.composite
def instructions(draw):
    kind = draw(st.sampled_from(["LOAD", "STORE", "MATMUL", "GEMV", "PIM_GEMV", "VADD",
                                 "SOFTMAX", "VMAX", "NOP"]))
    unit = draw(st.integers(0, 2))
    if kind in ("LOAD", "STORE"):
        return _made(kind, buf=draw(st.integers(0, 15)), rows=draw(SIZES),
                           row_bytes=draw(SIZES), sram_addr=draw(SIZES), dram_addr=draw(SIZES),
                           sram_stride_bytes=draw(SIZES), dram_stride_bytes=draw(SIZES),
                           unit=unit)
    if kind in ("MATMUL", "GEMV", "PIM_GEMV"):
        sparse = draw(st.sampled_from(["dense", "dense", "nm"]))
        return _made(kind, m=draw(SIZES), n=draw(SIZES), k=draw(SIZES),
                           count=draw(st.integers(0, 3)), act_buf=draw(st.integers(0, 15)),
                           wgt_buf=draw(st.integers(0, 15)), out_buf=draw(st.integers(0, 15)),
                           wgt_addr=draw(SIZES), out_addr=draw(SIZES), unit=unit,
                           sparse_mode=sparse, sparse_n=draw(st.integers(0, 4)),
                           sparse_m=draw(st.integers(0, 8)))
    if kind == "NOP":
        return _made(kind, unit=unit)
    return _made(kind, rows=draw(SIZES), cols=draw(SIZES), count=draw(st.integers(0, 3)),
                       src0_buf=draw(st.integers(0, 15)), src1_buf=draw(st.integers(0, 15)),
                       dst_buf=draw(st.integers(0, 15)), dst_addr=draw(SIZES), unit=unit)


@settings(max_examples=600, deadline=None)
@given(instructions(), st.sampled_from([None, *RESOURCES]))
def test_quick_check_passes_what_the_full_checks_pass(instr, res):
    quick, full = V._passes_quickly(instr, res), _full_checks_pass(instr, res)
    assert not quick or full  # never passes what a full check refuses
    if instr.spec.format.name != "matrix" or instr["sparse_mode"] == 0:
        assert quick == full  # dense: the same answer


def test_hand_cases():
    u280 = RESOURCES[0]
    fits = Instruction("LOAD", buf=1, rows=1, row_bytes=16)
    assert V._passes_quickly(fits, u280)
    # b_buf (id 1) holds 131072 B: 16 rows of 16384 B do not fit
    assert not V._passes_quickly(Instruction("LOAD", buf=1, rows=16, row_bytes=16384), u280)
    assert not V._passes_quickly(Instruction("LOAD", buf=1, rows=2, row_bytes=16,
                                             sram_stride_bytes=8), u280)  # rows overlap
    assert not V._passes_quickly(Instruction("MATMUL", m=1, n=1, count=1), None)  # k = 0
    assert not V._passes_quickly(Instruction("GEMV", m=1, n=1, k=1, count=1, unit=1), u280)
