"""Text assembly: disassembly round-trips, to the byte, and errors name the line."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa import (Instruction, IsaError, Program, assemble, disassemble, format_instruction,
                 parse_instruction, to_bytes)
from tests.isa.strategies import instructions


@settings(max_examples=1000, deadline=None)
@given(instructions())
def test_instruction_text_round_trip(instr):
    assert parse_instruction(format_instruction(instr)) == instr


@settings(max_examples=200, deadline=None)
@given(st.lists(instructions(), max_size=12), st.binary(min_size=32, max_size=32),
       st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), max_size=3))
def test_assembling_a_disassembly_gives_identical_bytes(instrs, fingerprint, meta):
    program = Program.from_instructions("some-target", instrs, fingerprint, meta)
    again = assemble(disassemble(program))
    assert again == program
    assert to_bytes(again) == to_bytes(program)


def test_hand_written_text():
    text = """
    ; a comment
    .target flightllm-u280
    .queue LD
        LOAD buf=1 rows=2 row_bytes=0x40 release=MM   ; trailing comment
    .queue MM
        MATMUL wait=LD dtype_act=int8 m=4 n=4 k=64 count=1
    """
    program = assemble(text)
    load, = program.streams[Instruction("LOAD").queue]
    assert load["row_bytes"] == 64 and load["rows"] == 2
    assert program.target_name == "flightllm-u280"
    assert len(program) == 2


@pytest.mark.parametrize("line, message", [
    ("FROB x=1", "prog.s:2: unknown opcode 'FROB'"),
    ("LOAD rows", "prog.s:2: expected field=value, got 'rows'"),
    ("LOAD rows=1 rows=2", "prog.s:2: field rows given twice"),
    ("MATMUL dtype_act=int9", "prog.s:2: MATMUL: field dtype_act has no value 'int9'"),
    (".queue MM\nLOAD rows=1", "prog.s:3: LOAD is a LD instruction, not MM"),
    (".frob", "prog.s:2: unknown directive .frob"),
    (".meta {bad", "prog.s:2: .meta is not valid JSON"),
    (".fingerprint 12", "prog.s:2: .fingerprint needs 64 hex digits"),
])
def test_errors_name_file_line_and_problem(line, message):
    with pytest.raises(IsaError) as err:
        assemble(".target t\n" + line, "prog.s")
    assert str(err.value).startswith(message)


def test_missing_target_directive():
    with pytest.raises(IsaError, match="prog.s: no .target directive"):
        assemble("LOAD rows=1", "prog.s")
