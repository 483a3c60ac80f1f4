"""The instruction formats, declared once as bit-field tables (checked for coverage at import).

Every word is 256 bits, little-endian. Bits 0-20 are the common header: opcode, the queues this
instruction waits on for one token each, the queues it releases one token to when it ends, and
which of the target's units serving the queue runs it (an SoC has an NPU and CPU clusters).
"""
from isa.enums import Dtype, SparseMode
from isa.fields import HEX, OPCODE, QUEUES, RESERVED, UINT, Format, chain

HEADER = (
    ("opcode", 6, OPCODE, "operation; selects the queue and the format"),
    ("wait", 6, QUEUES, "queues to take one token from before starting (bit i = Queue i)"),
    ("release", 6, QUEUES, "queues to give one token to on completion (bit i = Queue i)"),
    ("unit", 3, UINT, "which of the target's units serving this queue runs it (0 = the first)"),
)


def _format(name: str, doc: str, *body: tuple) -> Format:
    used = sum(spec[1] for spec in HEADER + body)
    pad = (("reserved", 256 - used, RESERVED, "must be zero"),) if used < 256 else ()
    return Format(name, chain(*HEADER, *body, *pad), doc)


MEM = _format(
    "mem", "Off-chip <-> on-chip transfer of `rows` rows of `row_bytes` bytes (LD, ST).",
    ("buf", 4, UINT, "on-chip buffer id (target buffer index)"),
    ("dtype", 4, UINT, "element type of the data moved", Dtype),
    ("sram_addr", 32, HEX, "byte offset in the on-chip buffer"),
    ("dram_addr", 48, HEX, "byte address in off-chip memory"),
    ("rows", 16, UINT, "number of rows moved"),
    ("row_bytes", 24, UINT, "bytes per row"),
    ("sram_stride_bytes", 24, UINT, "on-chip distance between row starts; 0 = row_bytes"),
    ("dram_stride_bytes", 40, UINT, "off-chip distance between row starts; 0 = row_bytes"),
)

MATRIX = _format(
    "matrix", "out[i] (m x n) = act[i if act_step else 0] (m x k) @ wgt[i] (k x n), i < count "
    "(MM, MV).",
    ("dtype_act", 4, UINT, "activation element type", Dtype),
    ("dtype_wgt", 4, UINT, "weight element type", Dtype),
    ("dtype_out", 4, UINT, "output element type", Dtype),
    ("sparse_mode", 2, UINT, "weight storage: dense, N:M or block sparse", SparseMode),
    ("sparse_n", 7, UINT, "kept elements (N:M) or kept blocks (block) per group"),
    ("sparse_m", 7, UINT, "group size M (N:M) or blocks per group (block)"),
    ("m", 16, UINT, "rows of the activation tile (tokens x batch)"),
    ("n", 16, UINT, "columns of one weight tile"),
    ("k", 16, UINT, "reduction length"),
    ("act_buf", 4, UINT, "buffer id of the activation operand"),
    ("act_addr", 32, HEX, "byte offset of the activation operand"),
    ("wgt_buf", 4, UINT, "buffer id of the weights; 15 = off-chip memory (PIM only)"),
    ("wgt_addr", 40, HEX, "byte offset (or off-chip address) of the first weight tile"),
    ("out_buf", 4, UINT, "buffer id of the output"),
    ("out_addr", 32, HEX, "byte offset of the first output tile"),
    ("accumulate", 1, UINT, "1 = add into the existing output instead of overwriting"),
    ("count", 16, UINT, "loop count: weight tiles processed back to back (>= 1)"),
    ("act_step", 1, UINT, "1 = the activation advances one m x k tile per iteration too"),
    ("wgt_transposed", 1, UINT, "1 = each weight tile is stored n x k row-major (a K cache)"),
)

VECTOR = _format(
    "vector", "dst[i] = op(src0[i], src1[i]) over `rows` x `cols` elements, for i < count (VEC).",
    ("dtype_in", 4, UINT, "input element type", Dtype),
    ("dtype_out", 4, UINT, "output element type", Dtype),
    ("rows", 16, UINT, "rows of the operand"),
    ("cols", 16, UINT, "columns of the operand (reductions run along cols)"),
    ("src0_buf", 4, UINT, "buffer id of the first source"),
    ("src0_addr", 32, HEX, "byte offset of the first source"),
    ("src1_buf", 4, UINT, "buffer id of the second source (binary ops, tables)"),
    ("src1_addr", 32, HEX, "byte offset of the second source"),
    ("dst_buf", 4, UINT, "buffer id of the destination"),
    ("dst_addr", 32, HEX, "byte offset of the destination"),
    ("imm", 32, UINT, "immediate: requantize multiplier, softmax scale, epsilon code"),
    ("shift", 8, UINT, "right shift applied after `imm` (fixed-point scale)"),
    ("count", 16, UINT, "loop count: operand tiles processed back to back (>= 1)"),
)

SYSTEM = _format(
    "system", "Synchronisation and control (SYS).",
    ("imm", 32, UINT, "barrier id or halt code"),
)

FORMATS = (MEM, MATRIX, VECTOR, SYSTEM)

DRAM_BUFFER_ID = 15  # wgt_buf value naming off-chip memory (PIM banks)
