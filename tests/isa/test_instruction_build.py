"""Instruction construction: the generated per-opcode constructors and `with_tokens` give the
instruction the field table describes, and refuse what the table refuses."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa import OPCODES, Instruction, IsaError, Queue
from isa.fields import QUEUES
from tests.isa.strategies import instructions


@settings(max_examples=300, deadline=None)
@given(instructions())
def test_fields_by_name_value_or_member_build_the_same_instruction(instr):
    by_member = dict(instr.fields)
    by_name = {k: (v.name.lower() if hasattr(v, "name") and not isinstance(v, frozenset)
                   else sorted(q.name for q in v) if isinstance(v, frozenset) else v)
               for k, v in by_member.items()}
    by_value = {k: (sum(1 << q for q in v) if isinstance(v, frozenset) else int(v))
                for k, v in by_member.items()}
    for fields in (by_member, by_name, by_value):
        rebuilt = Instruction(instr.opcode.name.lower(), **fields)
        assert rebuilt == instr
        assert [type(a) for a in rebuilt.values] == [type(a) for a in instr.values]


@settings(max_examples=300, deadline=None)
@given(instructions())
def test_with_tokens_equals_building_with_them(instr):
    wait, release = instr["wait"], instr["release"]
    bare = Instruction(instr.opcode, **{**instr.fields, "wait": (), "release": ()})
    assert bare.with_tokens(sorted(q.name for q in wait), sorted(q.name for q in release)) \
        == instr
    assert bare.with_tokens(sum(1 << q for q in wait), sum(1 << q for q in release)) == instr


def test_with_tokens_refuses_the_own_queue_and_wide_masks():
    mm = Instruction("MATMUL", m=1, n=1, k=1, count=1)
    with pytest.raises(IsaError, match="^MATMUL: a MM instruction cannot exchange tokens "
                                       "with its own queue$"):
        mm.with_tokens(1 << Queue.MM, 0)
    with pytest.raises(IsaError, match=r"^MATMUL: field release mask 64 does not fit in 6 "
                                       r"bits$"):
        mm.with_tokens(0, 64)


@pytest.mark.parametrize("op", list(OPCODES))
def test_every_plain_field_refuses_one_past_its_width_and_a_bool(op):
    for f in OPCODES[op].format.operand_fields:
        if f.kind == QUEUES or f.enum is not None:
            continue
        with pytest.raises(IsaError, match=f"field {f.name} = {f.max_value + 1} does not fit"):
            Instruction(op, **{f.name: f.max_value + 1})
        with pytest.raises(IsaError, match=f"field {f.name} must be an integer, not True"):
            Instruction(op, **{f.name: True})
        assert Instruction(op, **{f.name: f.max_value})[f.name] == f.max_value
