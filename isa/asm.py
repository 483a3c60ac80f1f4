"""Text assembly and disassembly, derived from the format tables.

Syntax (one instruction per line, `;` starts a comment):
    .target NAME                  target the program was compiled for; a name that is not one
                                  plain token (A-Z a-z 0-9 _ . + -) is a JSON string: "a b"
    .fingerprint HEX64            that target's fingerprint (optional)
    .meta {JSON}                  layout metadata, one line, no comment after it (optional)
    .queue LD|ST|MM|MV|VEC|SYS    the following instructions belong to this queue (optional check)
    OPNAME field=value ...        fields left out are zero; enums by name; queues as LD,MM
Disassembly prints every enum field and every non-zero field, so assembling it gives the same bytes.
"""
from __future__ import annotations

import json
import re

from isa.enums import Queue
from isa.errors import IsaError
from isa.fields import HEX, QUEUES
from isa.instruction import Instruction
from isa.program import FINGERPRINT_BYTES, NO_FINGERPRINT, Program
from isa.strict_json import loads as strict_json_loads

HEADER_LINE = "; hwsim assembly, 256-bit words"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_JSON_LINES = (".meta", '.target "')


def format_instruction(instr: Instruction) -> str:
    """Instruction -> one line of assembly."""
    parts = [instr.opcode.name]
    for f, value in zip(instr.spec.format.operand_fields, instr._values):
        if f.kind == QUEUES:
            if value:
                parts.append(f"{f.name}=" + ",".join(q.name for q in sorted(value)))
        elif f.enum is not None:
            parts.append(f"{f.name}={value.name.lower()}")
        elif value:
            parts.append(f"{f.name}={value:#x}" if f.kind == HEX else f"{f.name}={value}")
    return " ".join(parts)


def disassemble(program: Program) -> str:
    """Program -> assembly text; `assemble(disassemble(p)) == p`. A compact program
    (isa.compact) is written as the flat program it stands for."""
    if not isinstance(program, Program):
        program = program.flatten()
    lines = [HEADER_LINE, f".target {quote_name(program.target_name)}"]
    if program.target_fingerprint != NO_FINGERPRINT:
        lines.append(f".fingerprint {program.target_fingerprint.hex()}")
    if program.metadata:
        lines.append(".meta " + json.dumps(program.metadata, sort_keys=True, separators=(",", ":")))
    for q in Queue:
        if program.streams[q]:
            lines.append(f".queue {q.name}")
            lines.extend("    " + format_instruction(i) for i in program.streams[q])
    return "\n".join(lines) + "\n"


def quote_name(name: str) -> str:
    """A target name as one token: as is when it is a plain name, else a JSON string (ASCII,
    escaped), so a newline, a ';', spaces or an empty name survive disassembly."""
    return name if _PLAIN_NAME.fullmatch(name) else json.dumps(name)


def _unquote_name(arg: str) -> str:
    if not arg.startswith('"'):
        return _need(arg, ".target needs a target name")
    try:
        value = json.loads(arg)
    except (json.JSONDecodeError, RecursionError):
        value = None
    if not isinstance(value, str):
        raise IsaError(".target: a quoted name must be one JSON string")
    return value


def assemble(text: str, source: str = "<asm>") -> Program:
    """Assembly text -> Program; IsaError names `source:line` and the problem."""
    target, fingerprint, metadata = None, NO_FINGERPRINT, {}
    queue, instrs, seen = None, [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        # a .meta line and a quoted .target name are JSON to the end of the line (a ';' in
        # them is data, not a comment)
        line = raw.strip() if raw.lstrip().startswith(_JSON_LINES) else raw.split(";", 1)[0].strip()
        if not line:
            continue
        try:
            if line.startswith("."):
                directive, _, arg = line.partition(" ")
                arg = arg.strip()
                if directive in seen:
                    raise IsaError(f"{directive} given twice")
                if directive != ".queue":
                    seen.add(directive)
                if directive == ".target":
                    target = _unquote_name(arg)
                elif directive == ".fingerprint":
                    fingerprint = _fingerprint(arg)
                elif directive == ".meta":
                    metadata = _meta(arg)
                elif directive == ".queue":
                    queue = _queue(arg)
                else:
                    raise IsaError(f"unknown directive {directive}")
                continue
            instr = parse_instruction(line)
            if queue is not None and instr.queue != queue:
                raise IsaError(f"{instr.opcode.name} is a {instr.queue.name} instruction, "
                               f"not {queue.name}")
            instrs.append(instr)
        except IsaError as err:
            raise IsaError(f"{source}:{number}: {err}") from None
    if target is None:
        raise IsaError(f"{source}: no .target directive")
    return Program.from_instructions(target, instrs, fingerprint, metadata)


def parse_instruction(line: str) -> Instruction:
    """`MATMUL m=16 n=16 k=64 ...` -> Instruction."""
    name, *args = line.split()
    fields = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key or not value:
            raise IsaError(f"expected field=value, got {arg!r}")
        if key in fields:
            raise IsaError(f"field {key} given twice")
        fields[key] = _value(value)
    return Instruction(name, **fields)


def _value(text: str):
    try:
        return int(text, 0)
    except ValueError:
        return text  # an enum name or a queue list; Instruction validates it


def _need(arg: str, message: str) -> str:
    if not arg:
        raise IsaError(message)
    return arg


def _fingerprint(arg: str) -> bytes:
    try:
        value = bytes.fromhex(arg)
    except ValueError:
        value = b""
    if len(value) != FINGERPRINT_BYTES:
        raise IsaError(f".fingerprint needs {2 * FINGERPRINT_BYTES} hex digits")
    return value


def _meta(arg: str) -> dict:
    value = strict_json_loads(arg, ".meta")
    if not isinstance(value, dict):
        raise IsaError(".meta must be a JSON object")
    return value


def _queue(arg: str) -> Queue:
    try:
        return Queue[arg.upper()]
    except KeyError:
        raise IsaError(f"unknown queue {arg!r} (queues: "
                       f"{', '.join(q.name for q in Queue)})") from None
