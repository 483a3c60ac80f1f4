"""`hwsim demo`: the main job on the built-in default.

Until the compiler and simulator land it shows the built-in targets and takes one hand-written
GEMV tile program for the default target through assemble -> verify -> .hwx -> disassemble.
"""
from __future__ import annotations

import isa
from hwsim.cli import target_cmds
from hwsim.cli.common import emit, load_target

DEFAULT_TARGET = "flightllm-u280"

# One decode-style GEMV tile on FlightLLM's MPE: load 16 int8 activations and a 16 x 128 weight
# tile, multiply in MV mode, requantize on the SFU, store. Tokens order the queues; LD is in
# order, so the token released by the second LOAD covers both.
DEMO_ASM = """\
.target flightllm-u280
LOAD buf=1 dtype=int8 sram_addr=0x0 dram_addr=0x0 rows=1 row_bytes=16
LOAD buf=0 dtype=int8 sram_addr=0x0 dram_addr=0x1000 rows=16 row_bytes=128 release=MV
GEMV dtype_act=int8 dtype_wgt=int8 dtype_out=int32 m=1 n=128 k=16 act_buf=1 wgt_buf=0 out_buf=2 count=1 wait=LD release=VEC
REQUANT dtype_in=int32 dtype_out=int8 rows=1 cols=128 src0_buf=2 dst_buf=2 dst_addr=0x200 imm=1 shift=8 count=1 wait=MV release=ST
STORE buf=2 dtype=int8 sram_addr=0x200 dram_addr=0x2000 rows=1 row_bytes=128 wait=VEC
"""


def register(commands) -> None:
    parser = commands.add_parser("demo", help="the main job on the built-in default")
    parser.set_defaults(run=run)


def demo_program() -> isa.Program:
    target = load_target(DEFAULT_TARGET, ())
    program = isa.assemble(DEMO_ASM, "demo")
    program = isa.Program(target.name, target.fingerprint(), program.streams)
    isa.verify(program, target.isa_resources())
    return program


def run(args) -> int:
    emit("hwsim: LLM-accelerator compiler and simulator\n\nBuilt-in targets:\n")
    emit(target_cmds.list_text())
    program = demo_program()
    blob = isa.to_bytes(program)
    again = isa.from_bytes(blob)
    emit(f"\nA GEMV tile program for {DEFAULT_TARGET}: {len(program)} instructions, "
         f"{len(blob)} bytes as .hwx, verified (tokens balanced, no deadlock, buffers fit), "
         f"decoded back {'identical' if again == program else 'DIFFERENT'}:\n")
    emit(isa.disassemble(again))
    emit("\nStill to come: model compilation (hwsim compile), cycle-approximate simulation with\n"
         "energy (hwsim simulate; the demo will then run LLaMA2-7B decode on flightllm-u280),\n"
         "sweeps, the paper-claims table and RTL co-simulation.\n")
    return 0
