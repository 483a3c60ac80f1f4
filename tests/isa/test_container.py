"""The .hwx container: round trip, and every kind of damage is one IsaError."""
import hashlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa import Instruction, IsaError, Program, from_bytes, read, to_bytes, write
from isa.container import MAGIC


def sample() -> Program:
    instrs = [Instruction("LOAD", buf=1, rows=4, row_bytes=64, release="MM"),
              Instruction("MATMUL", wait="LD", m=4, n=16, k=64, count=1),
              Instruction("HALT")]
    return Program.from_instructions("flightllm-u280", instrs, bytes(range(32)),
                                     {"weights": [{"name": "w0", "dram_addr": 0, "bytes": 1024}]})


def test_round_trip_and_layout_by_hand(tmp_path):
    blob = to_bytes(sample())
    assert blob[:4] == MAGIC == b"HWX\x00"
    version, word_bits, name_len = struct.unpack_from("<HHH", blob, 4)
    assert (version, word_bits, name_len) == (1, 256, len("flightllm-u280"))
    assert blob[-32:] == hashlib.sha256(blob[:-32]).digest()
    # 3 instructions x 32 B of code, 6 CODE sections with 12 B headers, META, checksum
    assert from_bytes(blob) == sample()
    path = tmp_path / "p.hwx"
    write(path, sample())
    assert read(path) == sample()


def test_truncated_file_is_rejected():
    blob = to_bytes(sample())
    for cut in (0, 3, 10, len(blob) // 2, len(blob) - 1):
        with pytest.raises(IsaError):
            from_bytes(blob[:cut])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_bit_flip_is_rejected(data):
    blob = bytearray(to_bytes(sample()))
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(IsaError):
        from_bytes(bytes(blob))


def test_messages():
    blob = to_bytes(sample())
    with pytest.raises(IsaError, match=r"^not a .hwx file \(bad magic\)$"):
        from_bytes(b"ELF" + blob[3:])
    with pytest.raises(IsaError, match="checksum mismatch"):
        from_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    body = bytearray(blob[:-32])
    body[4] = 9  # format version 9, checksum made consistent: a future file
    with pytest.raises(IsaError, match="format version 9 is not supported"):
        from_bytes(bytes(body) + hashlib.sha256(bytes(body)).digest())


def test_read_names_the_file(tmp_path):
    path = tmp_path / "bad.hwx"
    path.write_bytes(b"nope")
    with pytest.raises(IsaError, match=r"bad.hwx: not a .hwx file"):
        read(path)
    with pytest.raises(IsaError, match=r"cannot read .*missing.hwx"):
        read(tmp_path / "missing.hwx")
