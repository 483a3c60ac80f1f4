"""A small hand-written GEMV tile program for flightllm-u280, used by the CLI tests."""
import isa
import targets

# Load 16 int8 activations and a 16 x 128 weight tile, multiply in MV mode, requantize on the
# SFU, store. LD is in order, so the token the second LOAD releases covers both loads.
SAMPLE_ASM = """\
.target flightllm-u280
LOAD buf=1 dtype=int8 sram_addr=0x0 dram_addr=0x0 rows=1 row_bytes=16
LOAD buf=0 dtype=int8 sram_addr=0x0 dram_addr=0x1000 rows=16 row_bytes=128 release=MV
GEMV dtype_act=int8 dtype_wgt=int8 dtype_out=int32 m=1 n=128 k=16 act_buf=1 wgt_buf=0 out_buf=2 count=1 wait=LD release=VEC
REQUANT dtype_in=int32 dtype_out=int8 rows=1 cols=128 src0_buf=2 dst_buf=2 dst_addr=0x200 imm=1 shift=8 count=1 wait=MV release=ST
STORE buf=2 dtype=int8 sram_addr=0x200 dram_addr=0x2000 rows=1 row_bytes=128 wait=VEC
"""


def sample_program() -> isa.Program:
    target = targets.load_target("flightllm-u280")
    program = isa.assemble(SAMPLE_ASM, "sample")
    program = isa.Program(target.name, target.fingerprint(), program.streams)
    isa.verify(program, target.isa_resources())
    return program
