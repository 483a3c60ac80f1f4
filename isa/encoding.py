"""Binary encode / decode, derived from the format tables (nothing here is per opcode)."""
from __future__ import annotations

from isa.errors import IsaError
from isa.fields import OPCODE, QUEUES, RESERVED, WORD_BYTES
from isa.formats import FORMATS, HEADER
from isa.instruction import Instruction, queue_mask
from isa.opcodes import OPCODES, Opcode

_OPCODE_BITS = HEADER[0][1]
_OPCODE_MASK = (1 << _OPCODE_BITS) - 1


def encode(instr: Instruction) -> int:
    """Instruction -> the word as an unsigned int (< 2**256)."""
    fmt = instr.spec.format
    word = int(instr.opcode)
    for f, value in zip(fmt.operand_fields, instr._values):
        raw = queue_mask(value) if f.kind == QUEUES else int(value)
        word |= raw << f.lo
    return word


def decode(word: int) -> Instruction:
    """Word -> Instruction; IsaError for an unknown opcode, a bad enum value or set reserved bits."""
    raw_op = word & _OPCODE_MASK
    try:
        op = Opcode(raw_op)
    except ValueError:
        raise IsaError(f"unknown opcode 0x{raw_op:02x}") from None
    fmt = OPCODES[op].format
    values = {}
    for f in fmt.fields:
        raw = (word >> f.lo) & f.max_value
        if f.kind == RESERVED:
            if raw:
                raise IsaError(f"{op.name}: reserved bits [{f.hi}:{f.lo}] are not zero")
        elif f.kind != OPCODE:
            values[f.name] = raw
    return Instruction(op, **values)


def encode_words(instrs) -> bytes:
    """Instructions -> concatenated little-endian words."""
    return b"".join(encode(i).to_bytes(WORD_BYTES, "little") for i in instrs)


def decode_words(data: bytes) -> list[Instruction]:
    """Concatenated little-endian words -> instructions; the length must be a whole number of words."""
    if len(data) % WORD_BYTES:
        raise IsaError(f"code of {len(data)} bytes is not a whole number of "
                       f"{WORD_BYTES}-byte words")
    out = []
    for index in range(0, len(data), WORD_BYTES):
        try:
            out.append(decode(int.from_bytes(data[index:index + WORD_BYTES], "little")))
        except IsaError as err:
            raise IsaError(f"word {index // WORD_BYTES}: {err}") from None
    return out


assert len({f.name for f in FORMATS}) == len(FORMATS)
