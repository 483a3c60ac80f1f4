"""Closed opcode enum and the per-opcode table: queue, format, operands read and written."""
from dataclasses import dataclass
from enum import IntEnum

from isa.enums import Queue
from isa.fields import Format
from isa.formats import MATRIX, MEM, SYSTEM, VECTOR


class Opcode(IntEnum):
    LOAD = 0x01
    STORE = 0x02
    MATMUL = 0x08
    GEMV = 0x10
    PIM_GEMV = 0x11
    VADD = 0x20
    VMUL = 0x21
    VMAX = 0x22
    VSUM = 0x23
    VEXP = 0x24
    SOFTMAX = 0x25
    LAYERNORM = 0x26
    RMSNORM = 0x27
    ROPE = 0x28
    GELU = 0x29
    SILU = 0x2A
    REQUANT = 0x2B
    VCOPY = 0x2C
    RELU = 0x2D
    NOP = 0x30
    SYNC = 0x31
    HALT = 0x3F


@dataclass(frozen=True)
class OpSpec:
    """What an opcode is: its queue, its word format, its on-chip operands, and a summary."""

    queue: Queue
    format: Format
    reads: tuple[str, ...]   # operand prefixes read ("act", "wgt", "src0", ...)
    writes: tuple[str, ...]  # operand prefixes written
    doc: str


_UNARY = (("src0",), ("dst",))
_BINARY = (("src0", "src1"), ("dst",))

OPCODES: dict[Opcode, OpSpec] = {
    Opcode.LOAD: OpSpec(Queue.LD, MEM, (), ("sram",), "copy off-chip memory into a buffer"),
    Opcode.STORE: OpSpec(Queue.ST, MEM, ("sram",), (), "copy a buffer out to off-chip memory"),
    Opcode.MATMUL: OpSpec(Queue.MM, MATRIX, ("act", "wgt"), ("out",),
                          "matrix multiply on the matrix unit (systolic array / DSP chains)"),
    Opcode.GEMV: OpSpec(Queue.MV, MATRIX, ("act", "wgt"), ("out",),
                        "matrix-vector product on the GEMV unit (vector unit / DSP chains)"),
    Opcode.PIM_GEMV: OpSpec(Queue.MV, MATRIX, ("act",), ("out",),
                            "matrix-vector product in PIM banks; weights stay in off-chip memory"),
    Opcode.VADD: OpSpec(Queue.VEC, VECTOR, *_BINARY, "elementwise add"),
    Opcode.VMUL: OpSpec(Queue.VEC, VECTOR, *_BINARY, "elementwise multiply"),
    Opcode.VMAX: OpSpec(Queue.VEC, VECTOR, *_UNARY, "row-wise max reduction"),
    Opcode.VSUM: OpSpec(Queue.VEC, VECTOR, *_UNARY, "row-wise sum reduction"),
    Opcode.VEXP: OpSpec(Queue.VEC, VECTOR, *_UNARY, "elementwise exponential"),
    Opcode.SOFTMAX: OpSpec(Queue.VEC, VECTOR, *_UNARY, "row-wise softmax, scaled by imm >> shift"),
    Opcode.LAYERNORM: OpSpec(Queue.VEC, VECTOR, *_BINARY, "row-wise layer norm; src1 = gamma/beta"),
    Opcode.RMSNORM: OpSpec(Queue.VEC, VECTOR, *_BINARY, "row-wise RMS norm; src1 = gamma"),
    Opcode.ROPE: OpSpec(Queue.VEC, VECTOR, *_UNARY,
                        "rotary embedding; angles from positions imm + row, rotating `shift` dims"),
    Opcode.GELU: OpSpec(Queue.VEC, VECTOR, *_UNARY, "elementwise GELU"),
    Opcode.SILU: OpSpec(Queue.VEC, VECTOR, *_UNARY, "elementwise SiLU"),
    Opcode.RELU: OpSpec(Queue.VEC, VECTOR, *_UNARY, "elementwise ReLU"),
    Opcode.REQUANT: OpSpec(Queue.VEC, VECTOR, *_UNARY,
                           "requantize: round(x * imm / 2**shift), saturate to dtype_out"),
    Opcode.VCOPY: OpSpec(Queue.VEC, VECTOR, *_UNARY, "copy / convert dtype"),
    Opcode.NOP: OpSpec(Queue.SYS, SYSTEM, (), (), "do nothing (carries tokens)"),
    Opcode.SYNC: OpSpec(Queue.SYS, SYSTEM, (), (), "barrier: wait and release tokens"),
    Opcode.HALT: OpSpec(Queue.SYS, SYSTEM, (), (), "end of program"),
}

_missing = set(Opcode) - set(OPCODES)
assert not _missing, f"opcodes without a table entry: {_missing}"
