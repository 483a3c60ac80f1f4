"""Binary encoding: hand-checked bit positions and a round-trip property over every opcode."""
import pytest
from hypothesis import given, settings

from isa import (WORD_BITS, WORD_BYTES, Dtype, Instruction, IsaError, Opcode, Queue, decode,
                 decode_words, encode, encode_words)
from tests.isa.strategies import instructions


def test_header_bits_by_hand():
    # opcode 0x08 in bits 0-5; wait LD (bit 0 of the 6-bit mask at 6) -> bit 6;
    # release VEC (queue 4 of the mask at 12) -> bit 16; unit 1 at bit 18.
    instr = Instruction("MATMUL", wait="LD", release="VEC", unit=1)
    word = encode(instr)
    assert word & 0x3F == 0x08
    assert word >> 6 & 0x3F == 0b000001
    assert word >> 12 & 0x3F == 0b010000
    assert word >> 18 & 0x7 == 1


def test_matrix_fields_by_hand():
    # matrix format after the 21-bit header: dtype_act 4, dtype_wgt 4, dtype_out 4,
    # sparse_mode 2, sparse_n 7, sparse_m 7, then m 16 at bit 49.
    instr = Instruction("MATMUL", dtype_wgt="int4", m=0x1234)
    word = encode(instr)
    assert word >> 25 & 0xF == Dtype.INT4 == 1
    assert word >> 49 & 0xFFFF == 0x1234


@settings(max_examples=3000, deadline=None)
@given(instructions())
def test_encode_decode_round_trip(instr):
    word = encode(instr)
    assert 0 <= word < 1 << WORD_BITS
    assert decode(word) == instr


@settings(max_examples=300, deadline=None)
@given(instructions(), instructions())
def test_word_stream_round_trip(a, b):
    data = encode_words([a, b])
    assert len(data) == 2 * WORD_BYTES
    assert decode_words(data) == [a, b]


def test_every_opcode_round_trips_with_extreme_values():
    for op in Opcode:
        fields = {f.name: f.max_value for f in op_fields(op) if f.kind in ("uint", "hex")
                  and f.enum is None}
        instr = Instruction(op, **fields)
        assert decode(encode(instr)) == instr


def op_fields(op):
    from isa import OPCODES
    return OPCODES[op].format.operand_fields


def test_decode_rejects_unknown_opcode_and_reserved_bits():
    with pytest.raises(IsaError, match="unknown opcode 0x00"):
        decode(0)
    with pytest.raises(IsaError, match=r"HALT: reserved bits \[255:53\] are not zero"):
        decode(int(Opcode.HALT) | 1 << 200)
    with pytest.raises(IsaError, match="field dtype has no value 15"):
        decode(int(Opcode.LOAD) | 15 << 25)


def test_constructor_rejects_bad_values():
    with pytest.raises(IsaError, match=r"MATMUL: field m = 65536 does not fit in 16 bits"):
        Instruction("MATMUL", m=1 << 16)
    with pytest.raises(IsaError, match="unknown field 'foo'"):
        Instruction("LOAD", foo=1)
    with pytest.raises(IsaError, match="cannot exchange tokens with its own queue"):
        Instruction("LOAD", wait="LD")
    with pytest.raises(IsaError, match="unknown opcode 'FROB'"):
        Instruction("FROB")
    with pytest.raises(IsaError, match="names unknown queue 'XX'"):
        Instruction("LOAD", release="XX")
    assert Instruction("LOAD", release=[Queue.MM]).queue == Queue.LD


def test_word_stream_must_be_whole_words():
    with pytest.raises(IsaError, match="not a whole number of 32-byte words"):
        decode_words(b"\x01" * 33)


@pytest.mark.slow
@pytest.mark.parametrize("opcode", list(Opcode), ids=lambda op: op.name)
def test_thousand_random_instructions_of_each_opcode_round_trip(opcode):
    @settings(max_examples=1000, deadline=None)
    @given(instructions(opcodes=(opcode,)))
    def check(instr):
        assert decode(encode(instr)) == instr
    check()
