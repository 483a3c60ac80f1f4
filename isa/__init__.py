"""hwsim's instruction set: bit-field tables, encoding, assembly, the .hwx container, a verifier.

Imports nothing else of the project.
"""
from isa.asm import assemble, disassemble, format_instruction, parse_instruction
from isa.container import from_bytes, read, to_bytes, write, write_atomic
from isa.encoding import decode, decode_words, encode, encode_words
from isa.enums import DTYPE_NAMES, Dtype, Queue, SparseMode
from isa.errors import IsaError
from isa.fields import WORD_BITS, WORD_BYTES, BitField, Format
from isa.formats import DRAM_BUFFER_ID, FORMATS
from isa.instruction import Instruction
from isa.opcodes import OPCODES, Opcode, OpSpec
from isa.program import NO_FINGERPRINT, Program
from isa.verify import Resources, issue_order, operand_extents, verify

__all__ = [
    "assemble", "disassemble", "format_instruction", "parse_instruction", "from_bytes", "read",
    "to_bytes", "write", "write_atomic", "decode", "decode_words", "encode", "encode_words",
    "DTYPE_NAMES", "Dtype", "Queue", "SparseMode", "IsaError", "WORD_BITS", "WORD_BYTES",
    "BitField", "Format", "DRAM_BUFFER_ID", "FORMATS", "Instruction", "OPCODES", "Opcode",
    "OpSpec", "NO_FINGERPRINT", "Program", "Resources", "issue_order", "operand_extents", "verify",
]
