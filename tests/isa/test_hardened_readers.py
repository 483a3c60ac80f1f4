"""Issue 16, causes 1 and 4 for programs: the .hwx META and `.meta` readers have depth, digit,
finiteness and duplicate-key limits; duplicate sections and directives are refused; the
disassembler escapes the target name, so asm(disasm(p)) == p for any name."""
import hashlib
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa import Instruction, IsaError, Program, assemble, disassemble, from_bytes, to_bytes
from isa.strict_json import MAX_INT_DIGITS, MAX_META_DEPTH

PROGRAM = Program.from_instructions(
    "neupims", instrs=[Instruction("LOAD", buf=0, rows=1, row_bytes=64)],
    metadata={"workload": {"phase": "decode", "batch": 1, "seq": 1}})


def _with_meta(text: bytes) -> bytes:
    """PROGRAM's bytes with the META payload replaced (checksum recomputed)."""
    body = to_bytes(PROGRAM)[:-32]
    meta = json.dumps(PROGRAM.metadata, sort_keys=True, separators=(",", ":")).encode()
    start = body.rindex(b"META")
    body = body[:start] + b"META" + struct.pack("<I", len(text)) + text
    assert body.endswith(text) and meta
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize("meta, message", [
    (b"[" * 900 + b"]" * 900, f".hwx: META section nests 900 levels deep; the limit is "
                              f"{MAX_META_DEPTH}"),
    (b"[" * 5000 + b"]" * 5000, f".hwx: META section nests deeper than {MAX_META_DEPTH} levels"),
    (b'{"a": ' + b"7" * 5000 + b"}", f".hwx: META section: integer of 5000 digits; the limit "
                                     f"is {MAX_INT_DIGITS}"),
    (b'{"a": NaN}', ".hwx: META section: NaN is not a finite number"),
    (b'{"a": -Infinity}', ".hwx: META section: -Infinity is not a finite number"),
    (b'{"a": 1e400}', ".hwx: META section: number 1e400 overflows a 64-bit float"),
    (b'{"a": 1, "a": 2}', ".hwx: META section: duplicate key 'a'"),
], ids=["depth-900", "depth-5000", "digits", "nan", "infinity", "overflow", "duplicate"])
def test_meta_outside_the_limits_is_one_isa_error(meta, message):
    with pytest.raises(IsaError) as err:
        from_bytes(_with_meta(meta))
    assert str(err.value) == message


@pytest.mark.parametrize("directive", [".meta", ".target"])
def test_asm_meta_and_target_limits(directive):
    if directive == ".meta":
        text = ".target t\n.meta " + "[" * 700 + "]" * 700 + "\n"
        message = f"<asm>:2: .meta nests 700 levels deep; the limit is {MAX_META_DEPTH}"
    else:
        text = ".target a\n.target b\n"
        message = "<asm>:2: .target given twice"
    with pytest.raises(IsaError) as err:
        assemble(text)
    assert str(err.value) == message


def _sections(data: bytes, doubled: bytes) -> bytes:
    """Append a copy of the first section with tag `doubled` (count + 1, checksum fixed)."""
    body = data[:-32]
    name_len = struct.unpack_from("<H", body, 8)[0]
    at = 10 + name_len + 32
    count = struct.unpack_from("<I", body, at)[0]
    pos = at + 4
    while body[pos:pos + 4] != doubled:
        pos += 8 + struct.unpack_from("<I", body, pos + 4)[0]
    section = body[pos:pos + 8 + struct.unpack_from("<I", body, pos + 4)[0]]
    body = body[:at] + struct.pack("<I", count + 1) + body[at + 4:] + section
    return body + hashlib.sha256(body).digest()


@pytest.mark.parametrize("tag, message", [(b"CODE", ".hwx: two CODE sections for queue LD"),
                                          (b"META", ".hwx: two META sections")])
def test_a_duplicate_section_is_refused_not_last_one_wins(tag, message):
    with pytest.raises(IsaError) as err:
        from_bytes(_sections(to_bytes(PROGRAM), tag))
    assert str(err.value) == message


@pytest.mark.parametrize("name", ["a\nPIM_GEMV m=1 n=1 k=1 count=1", "", " ", "x;y", "a b",
                                  '"quoted"', "\u2028", "é", "t" * 300])
def test_disassembly_escapes_the_target_name(name):
    program = Program(name, PROGRAM.target_fingerprint, PROGRAM.streams, PROGRAM.metadata)
    text = disassemble(program)
    assert len(text.splitlines()) == len(disassemble(PROGRAM).splitlines())
    assert assemble(text) == program
    assert from_bytes(to_bytes(program)) == program


def test_a_plain_name_is_written_as_before():
    assert ".target neupims\n" in disassemble(PROGRAM)
    assert '.target "a b"\n' in disassemble(Program("a b", streams=PROGRAM.streams))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_any_name_survives_disassembly(name):
    program = Program(name, PROGRAM.target_fingerprint, PROGRAM.streams, PROGRAM.metadata)
    assert assemble(disassemble(program)) == program
