"""Hypothesis strategies: random valid instructions and programs, derived from the tables."""
from hypothesis import strategies as st

from isa import OPCODES, Instruction, Queue
from isa.fields import QUEUES


def _field_values(op, f):
    own = OPCODES[op].queue
    if f.kind == QUEUES:
        others = [q for q in Queue if q != own]
        return st.frozensets(st.sampled_from(others))
    if f.enum is not None:
        return st.sampled_from(list(f.enum))
    return st.integers(min_value=0, max_value=f.max_value)


@st.composite
def instructions(draw, opcodes=tuple(OPCODES)):
    """Any encodable instruction (not necessarily one a target accepts)."""
    op = draw(st.sampled_from(list(opcodes)))
    values = {f.name: draw(_field_values(op, f)) for f in OPCODES[op].format.operand_fields}
    return Instruction(op, **values)
