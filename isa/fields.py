"""Bit-field tables: the one declaration every encoder, decoder, assembler and doc derives from.

A `Format` is a tuple of `BitField`s that must cover a `WORD_BITS`-bit word exactly once.
`Format.__post_init__` checks that, so a gapped or overlapping table fails at import.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from isa.errors import IsaError

WORD_BITS = 256
WORD_BYTES = WORD_BITS // 8

# Field kinds: how a raw unsigned value maps to a Python value.
UINT = "uint"          # plain unsigned integer
HEX = "hex"            # unsigned integer, shown in hex (addresses)
QUEUES = "queues"      # one bit per isa.enums.Queue -> frozenset[Queue]
RESERVED = "reserved"  # must be zero; not an instruction field
OPCODE = "opcode"


@dataclass(frozen=True)
class BitField:
    """Bits [lo, lo + width) of the word. `enum` maps raw values to names when set."""

    name: str
    lo: int
    width: int
    kind: str = UINT
    doc: str = ""
    enum: type[IntEnum] | None = None

    @property
    def hi(self) -> int:
        return self.lo + self.width - 1

    @property
    def max_value(self) -> int:
        return (1 << self.width) - 1


def chain(*specs: tuple) -> tuple[BitField, ...]:
    """Lay fields out back to back from bit 0: each spec is (name, width, kind, doc[, enum])."""
    fields, lo = [], 0
    for spec in specs:
        name, width, kind, doc, *rest = spec
        fields.append(BitField(name, lo, width, kind, doc, rest[0] if rest else None))
        lo += width
    return tuple(fields)


@dataclass(frozen=True)
class Format:
    """An instruction format: named, with fields that tile the word exactly."""

    name: str
    fields: tuple[BitField, ...]
    doc: str = ""
    word_bits: int = WORD_BITS
    # derived in __post_init__: operand_fields (all but opcode and reserved bits, in order)
    # and operand_index (field name -> position in operand_fields)

    def __post_init__(self) -> None:
        check_coverage(self.name, self.fields, self.word_bits)
        operands = tuple(f for f in self.fields if f.kind not in (RESERVED, OPCODE))
        object.__setattr__(self, "operand_fields", operands)
        object.__setattr__(self, "operand_index", {f.name: i for i, f in enumerate(operands)})

    def field(self, name: str) -> BitField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def check_coverage(name: str, fields: tuple[BitField, ...], word_bits: int) -> None:
    """Raise IsaError unless `fields` cover bits 0..word_bits-1 once each, with unique names."""
    owner: list[str | None] = [None] * word_bits
    seen: set[str] = set()
    for f in fields:
        if f.width <= 0:
            raise IsaError(f"format {name}: field {f.name} has width {f.width}; must be >= 1")
        if f.name in seen:
            raise IsaError(f"format {name}: field name {f.name} appears twice")
        seen.add(f.name)
        if f.lo < 0 or f.hi >= word_bits:
            raise IsaError(f"format {name}: field {f.name} bits [{f.hi}:{f.lo}] fall outside "
                           f"the {word_bits}-bit word")
        for bit in range(f.lo, f.hi + 1):
            if owner[bit] is not None:
                raise IsaError(f"format {name}: fields {owner[bit]} and {f.name} overlap at bit {bit}")
            owner[bit] = f.name
    gaps = [bit for bit, o in enumerate(owner) if o is None]
    if gaps:
        raise IsaError(f"format {name}: bits {_ranges(gaps)} are covered by no field")


def _ranges(bits: list[int]) -> str:
    out, start = [], bits[0]
    for prev, cur in zip(bits, bits[1:] + [None]):
        if cur != prev + 1:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = cur
    return ",".join(out)
