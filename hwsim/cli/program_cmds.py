"""`hwsim asm FILE.s -o FILE.hwx` and `hwsim disasm FILE.hwx`."""
from __future__ import annotations

from pathlib import Path

from hwsim import api
from hwsim.cli.common import add_target_overrides, emit
from hwsim.errors import HwsimError


def register(commands) -> None:
    asm = commands.add_parser("asm", help="assemble a text program into a verified .hwx")
    asm.add_argument("source", help="assembly file (.s)")
    asm.add_argument("-o", "--output", required=True, help="the .hwx file to write")
    asm.add_argument("-t", "--target", help="target (preset or YAML); default: the .target line")
    add_target_overrides(asm)
    asm.set_defaults(run=run_asm)

    disasm = commands.add_parser("disasm", help="print a .hwx program as assembly text")
    disasm.add_argument("program", help=".hwx file")
    disasm.add_argument("-o", "--output", help="write the text here instead of stdout")
    disasm.set_defaults(run=run_disasm)


def run_asm(args) -> int:
    import isa
    text = _read_text(args.source)
    program = api.assemble(text, args.source, args.target, args.overrides)
    isa.write(args.output, program)
    counts = ", ".join(f"{q} {n}" for q, n in program.counts_per_queue().items() if n)
    emit(f"{args.output}: {len(program)} instructions ({counts or 'empty'}) for "
         f"{program.target_name}\n")
    return 0


def run_disasm(args) -> int:
    import isa
    text = isa.disassemble(isa.read(args.program))
    if args.output:
        isa.write_atomic(args.output, text.encode("utf-8"))
    else:
        emit(text)
    return 0


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise HwsimError(f"{path}: not a UTF-8 text file") from None
