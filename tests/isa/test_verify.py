"""The verifier: token balance, deadlock, operand bounds, units the target has."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets
from isa import Instruction, IsaError, Program, Queue, assemble, issue_order, verify

U280 = targets.load_target("flightllm-u280").isa_resources()

VALID = """
.target flightllm-u280
LOAD buf=1 dtype=int8 rows=1 row_bytes=16
LOAD buf=0 dtype=int8 dram_addr=0x1000 rows=16 row_bytes=128 release=MV
GEMV dtype_act=int8 dtype_wgt=int8 dtype_out=int32 m=1 n=128 k=16 act_buf=1 wgt_buf=0 out_buf=2 count=1 wait=LD release=ST
STORE buf=2 dtype=int32 rows=1 row_bytes=512 wait=MV
"""


def test_a_valid_program_passes_and_orders_by_tokens():
    order = verify(assemble(VALID), U280)
    assert order.index((Queue.LD, 1)) < order.index((Queue.MV, 0)) < order.index((Queue.ST, 0))


def test_a_wait_no_one_releases_is_rejected():
    text = VALID.replace("release=MV", "")
    with pytest.raises(IsaError, match=r"^unbalanced tokens LD->MV: LD releases 0, MV waits for 1$"):
        verify(assemble(text), U280)


def test_a_tile_that_overflows_a_u280_buffer_names_it():
    # b_buf (id 1) holds 131072 B; 16 x 16384 int8 activations = 262144 B do not fit.
    text = VALID.replace("LOAD buf=1 dtype=int8 rows=1 row_bytes=16",
                         "LOAD buf=1 dtype=int8 rows=16 row_bytes=16384")
    with pytest.raises(IsaError) as err:
        verify(assemble(text), U280)
    assert str(err.value) == ("LOAD at LD[0]: sram operand [0x0, +262144 B) overflows buffer "
                              "b_buf (131072 B)")


def test_matrix_operand_extent_by_hand():
    # GEMV weights: k=16 x n=128 int8 x count 65 = 133120 B > a_buf? no: a_buf is 8 MiB.
    # Put the weights in b_buf (131072 B): 16 x 128 x 65 = 133120 B overflows by 2048 B.
    text = VALID.replace("wgt_buf=0 out_buf=2 count=1", "wgt_buf=1 out_buf=2 count=65")
    with pytest.raises(IsaError, match=r"wgt operand \[0x0, \+133120 B\) overflows buffer b_buf"):
        verify(assemble(text), U280)
    ok = VALID.replace("wgt_buf=0 out_buf=2 count=1", "wgt_buf=1 out_buf=0 count=64")
    verify(assemble(ok), U280)


def test_nm_sparse_weights_take_n_over_m_of_the_space():
    # 2:16 sparse int8: 16 x 8192 x 2/16 = 16384 B fits b_buf; dense 131072 B still fits,
    # count 2 dense (262144 B) does not, count 2 sparse (32768 B) does.
    base = VALID.replace("n=128 k=16 act_buf=1 wgt_buf=0 out_buf=2 count=1",
                         "n=8192 k=16 act_buf=1 wgt_buf=1 out_buf=0 count=2")
    with pytest.raises(IsaError, match="wgt operand"):
        verify(assemble(base), U280)
    sparse = base.replace("GEMV ", "GEMV sparse_mode=nm sparse_n=2 sparse_m=16 ")
    verify(assemble(sparse), U280)


def test_deadlock_is_rejected_even_when_balanced():
    program = Program.from_instructions("t", [
        Instruction("LOAD", rows=1, row_bytes=1, wait="MM", release="MM"),
        Instruction("MATMUL", m=1, n=1, k=1, count=1, wait="LD", release="LD"),
    ])
    with pytest.raises(IsaError, match=r"^deadlock: no queue can proceed \(LD\[0\] LOAD waits on "
                                       r"MM; MM\[0\] MATMUL waits on LD\)$"):
        verify(program)


def test_units_the_target_lacks():
    pim = VALID.replace("GEMV ", "PIM_GEMV ").replace("wgt_buf=0", "wgt_buf=15")
    with pytest.raises(IsaError, match="PIM_GEMV at MV\\[0\\]: target flightllm-u280 has no PIM"):
        verify(assemble(pim), U280)
    second_unit = VALID.replace("GEMV ", "GEMV unit=1 ")
    with pytest.raises(IsaError, match="unit 1 does not exist; target flightllm-u280 has 1 unit"):
        verify(assemble(second_unit), U280)
    neupims = targets.load_target("neupims").isa_resources()
    verify(assemble(pim.replace("buf=2 dtype=int32 rows=1 row_bytes=512", "buf=1 rows=1 row_bytes=8")
                    .replace("out_buf=2", "out_buf=1").replace("act_buf=1", "act_buf=0")
                    .replace("LOAD buf=1", "LOAD buf=0")), neupims)


def test_impossible_shapes():
    with pytest.raises(IsaError, match=r"MATMUL at MM\[0\]: k = 0; must be >= 1"):
        verify(Program.from_instructions("t", [Instruction("MATMUL", m=1, n=1, count=1)]))
    with pytest.raises(IsaError, match="k = 20 is not a multiple of the N:M group M = 16"):
        verify(Program.from_instructions("t", [Instruction(
            "MATMUL", m=1, n=1, k=20, count=1, sparse_mode="nm", sparse_n=2, sparse_m=16)]))


# --- property: programs built from a legal schedule always verify -------------------------

SIMPLE = {
    Queue.LD: dict(opcode="LOAD", rows=1, row_bytes=1),
    Queue.ST: dict(opcode="STORE", rows=1, row_bytes=1),
    Queue.MM: dict(opcode="MATMUL", m=1, n=1, k=1, count=1),
    Queue.MV: dict(opcode="GEMV", m=1, n=1, k=1, count=1),
    Queue.VEC: dict(opcode="VADD", rows=1, cols=1, count=1),
    Queue.SYS: dict(opcode="NOP"),
}


def _instr(queue, wait, release):
    fields = dict(SIMPLE[queue])
    return Instruction(fields.pop("opcode"), wait=wait, release=release, **fields)


@st.composite
def scheduled_programs(draw):
    """Walk a random global order; waits only take tokens already given, so it cannot deadlock."""
    tokens = {(s, d): 0 for s in Queue for d in Queue}
    instrs = []
    for _ in range(draw(st.integers(1, 40))):
        q = draw(st.sampled_from(list(Queue)))
        ready = [s for s in Queue if tokens[(s, q)] > 0]
        wait = draw(st.frozensets(st.sampled_from(ready))) if ready else frozenset()
        release = draw(st.frozensets(st.sampled_from([d for d in Queue if d != q])))
        for s in wait:
            tokens[(s, q)] -= 1
        for d in release:
            tokens[(q, d)] += 1
        instrs.append(_instr(q, wait, release))
    for (s, d), left in tokens.items():
        if left:
            instrs += [_instr(d, {s}, frozenset())] * left
    return Program.from_instructions("t", instrs)


@settings(max_examples=300, deadline=None)
@given(scheduled_programs())
def test_scheduled_programs_verify_and_the_order_respects_tokens(program):
    order = verify(program)
    assert sorted(order) == sorted((q, i) for q in Queue for i in range(len(program.streams[q])))
    given_ = {(s, d): 0 for s in Queue for d in Queue}
    for q, i in order:
        instr = program.streams[q][i]
        for s in instr["wait"]:
            assert given_[(s, q)] > 0
            given_[(s, q)] -= 1
        for d in instr["release"]:
            given_[(q, d)] += 1


@settings(max_examples=200, deadline=None)
@given(scheduled_programs(), st.data())
def test_dropping_any_release_is_caught(program, data):
    releasing = [(q, i) for q in Queue for i, x in enumerate(program.streams[q]) if x["release"]]
    if not releasing:
        return
    q, i = data.draw(st.sampled_from(releasing))
    streams = {k: list(v) for k, v in program.streams.items()}
    old = streams[q][i]
    streams[q][i] = old.replace(release=sorted(old["release"])[1:])
    with pytest.raises(IsaError, match="unbalanced tokens"):
        verify(Program("t", streams=streams))


def test_issue_order_of_empty_program():
    assert issue_order(Program("t")) == []


def test_equal_instructions_are_checked_once_and_the_first_bad_one_is_named(monkeypatch):
    """verify checks each distinct instruction once (a compiled program repeats most of its
    instructions); an instruction that fails is never skipped: the error names its first
    place, as when every instruction was checked."""
    import importlib
    verify_module = importlib.import_module("isa.verify")  # isa.verify is the function
    checked = []
    real = verify_module._passes_quickly  # every distinct instruction goes through it first
    monkeypatch.setattr(verify_module, "_passes_quickly",
                        lambda instr, res: checked.append(instr.opcode.name) or real(instr, res))
    load = "LOAD buf=1 dtype=int8 rows=1 row_bytes=16\n"
    verify(assemble(".target flightllm-u280\n" + load * 5), U280)
    assert checked == ["LOAD"]
    big = "LOAD buf=1 dtype=int8 rows=16 row_bytes=16384\n"  # overflows b_buf (131072 B)
    with pytest.raises(IsaError, match=r"^LOAD at LD\[2\]: sram operand"):
        verify(assemble(".target flightllm-u280\n" + load * 2 + big * 2 + load), U280)
