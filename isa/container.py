"""The `.hwx` program container: versioned, sectioned, checksummed.

Layout (all integers little-endian):
  magic b"HWX\\0" | format_version u16 | word_bits u16 | name_len u16 | target name (utf-8)
  | target fingerprint (32 bytes) | section_count u32
  | sections: tag (4 ascii bytes) | payload_len u32 | payload
      CODE: queue u8, 3 zero bytes, then the queue's words
      META: canonical JSON (sorted keys, no spaces) of the layout metadata
  | sha256 of everything before it (32 bytes)
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile

from isa.encoding import decode_words, encode_words
from isa.enums import Queue
from isa.errors import IsaError
from isa.fields import WORD_BITS
from isa.program import FINGERPRINT_BYTES, Program
from isa.strict_json import loads as strict_json_loads

MAGIC = b"HWX\x00"
FORMAT_VERSION = 1
_CHECKSUM_BYTES = 32
_HEAD = struct.Struct("<4sHHH")
MAX_HWX_BYTES = 2**30   # 1 GiB: 33 million instructions, 30x the largest compiled program


def to_bytes(program: Program) -> bytes:
    """Program -> .hwx bytes (deterministic). A compact program (isa.compact) is written as
    the flat program it stands for."""
    if not isinstance(program, Program):
        program = program.flatten()
    name = program.target_name.encode("utf-8")
    sections = []
    for q in Queue:
        sections.append((b"CODE", bytes([q, 0, 0, 0]) + encode_words(program.streams[q])))
    meta = json.dumps(program.metadata, sort_keys=True, separators=(",", ":")).encode("utf-8")
    sections.append((b"META", meta))
    parts = [_HEAD.pack(MAGIC, FORMAT_VERSION, WORD_BITS, len(name)), name,
             program.target_fingerprint, struct.pack("<I", len(sections))]
    for tag, payload in sections:
        parts += [tag, struct.pack("<I", len(payload)), payload]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def from_bytes(data: bytes) -> Program:
    """.hwx bytes -> Program; IsaError naming the first problem (checksum checked first)."""
    minimum = _HEAD.size + FINGERPRINT_BYTES + 4 + _CHECKSUM_BYTES
    if len(data) > MAX_HWX_BYTES:
        raise IsaError(f".hwx of {len(data)} bytes; the limit is {MAX_HWX_BYTES}")
    if len(data) < minimum or data[:4] != MAGIC:
        if data[:4] != MAGIC:
            raise IsaError("not a .hwx file (bad magic)")
        raise IsaError(f"truncated .hwx: {len(data)} bytes, at least {minimum} expected")
    body, checksum = data[:-_CHECKSUM_BYTES], data[-_CHECKSUM_BYTES:]
    if hashlib.sha256(body).digest() != checksum:
        raise IsaError("corrupt .hwx: checksum mismatch (file truncated or modified)")
    _, version, word_bits, name_len = _HEAD.unpack_from(body, 0)
    if version != FORMAT_VERSION:
        raise IsaError(f".hwx format version {version} is not supported (this build reads "
                       f"{FORMAT_VERSION})")
    if word_bits != WORD_BITS:
        raise IsaError(f".hwx word width {word_bits} bits; this ISA uses {WORD_BITS}")
    reader = _Reader(body, _HEAD.size)
    name = _text(reader.take(name_len), "target name")
    fingerprint = reader.take(FINGERPRINT_BYTES)
    (count,) = struct.unpack("<I", reader.take(4))
    streams, metadata = {}, None
    for _ in range(count):
        tag = reader.take(4)
        (length,) = struct.unpack("<I", reader.take(4))
        payload = reader.take(length)
        if tag == b"CODE":
            queue = _queue(payload)
            if queue in streams:
                raise IsaError(f".hwx: two CODE sections for queue {queue.name}")
            streams[queue] = decode_words(payload[4:])
        elif tag == b"META":
            if metadata is not None:
                raise IsaError(".hwx: two META sections")
            metadata = _metadata(payload)
        else:
            raise IsaError(f".hwx: unknown section tag {tag!r}")
    if reader.offset != len(body):
        raise IsaError(f".hwx: {len(body) - reader.offset} stray bytes after the last section")
    return Program(name, fingerprint, streams, metadata or {})


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IsaError(f".hwx: {what} is not valid UTF-8") from None


def _metadata(payload: bytes) -> dict:
    value = strict_json_loads(_text(payload, "META section"), ".hwx: META section")
    if not isinstance(value, dict):
        raise IsaError(".hwx: META section must hold a JSON object")
    return value


def _queue(payload: bytes) -> Queue:
    if len(payload) < 4 or payload[1:4] != b"\0\0\0" or payload[0] >= len(Queue):
        raise IsaError(".hwx: CODE section with a bad queue header")
    return Queue(payload[0])


class _Reader:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.offset = data, offset

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise IsaError(f".hwx: section runs past the end of the file at byte {self.offset}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk


def read(path) -> Program:
    """Read and parse a .hwx file; IsaError names the file and the problem."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_HWX_BYTES:
                raise IsaError(f"{path}: .hwx of {size} bytes; the limit is {MAX_HWX_BYTES}")
            data = handle.read()
    except OSError as err:
        raise IsaError(f"cannot read {path}: {err.strerror}") from None
    try:
        return from_bytes(data)
    except IsaError as err:
        raise IsaError(f"{path}: {err}") from None


def write(path, program: Program) -> None:
    """Write `program` to `path` atomically: a temp file beside it, then rename."""
    write_atomic(path, to_bytes(program))


def write_atomic(path, data: bytes) -> None:
    """Write bytes so that `path` is either untouched or complete, never half-written. The file
    gets the mode a plain open() would give it (0666 less the umask), and an error names `path`,
    never the temporary file beside it."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(2, "the directory does not exist", str(path))
    if os.path.isdir(path):
        raise IsADirectoryError(21, "is a directory", str(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            handle.write(data)
        os.replace(tmp, path)
    except OSError as err:
        _remove(tmp)
        raise type(err)(err.errno, err.strerror or str(err), str(path)) from None
    except BaseException:
        _remove(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(tmp) -> None:
    if tmp and os.path.exists(tmp):
        os.unlink(tmp)
