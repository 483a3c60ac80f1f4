// Generated from isa/formats.py and isa/opcodes.py by `python -m isa.veriloggen`.
// Do not edit: a test fails when this file is stale.
`ifndef HWSIM_ISA_FIELDS_VH
`define HWSIM_ISA_FIELDS_VH

localparam integer ISA_WORD_BITS = 256;
localparam integer ISA_DRAM_BUFFER_ID = 15;

localparam integer QUEUE_LD = 0;
localparam integer QUEUE_ST = 1;
localparam integer QUEUE_MM = 2;
localparam integer QUEUE_MV = 3;
localparam integer QUEUE_VEC = 4;
localparam integer QUEUE_SYS = 5;

localparam [5:0] OP_LOAD = 6'h01;
localparam [5:0] OP_STORE = 6'h02;
localparam [5:0] OP_MATMUL = 6'h08;
localparam [5:0] OP_GEMV = 6'h10;
localparam [5:0] OP_PIM_GEMV = 6'h11;
localparam [5:0] OP_VADD = 6'h20;
localparam [5:0] OP_VMUL = 6'h21;
localparam [5:0] OP_VMAX = 6'h22;
localparam [5:0] OP_VSUM = 6'h23;
localparam [5:0] OP_VEXP = 6'h24;
localparam [5:0] OP_SOFTMAX = 6'h25;
localparam [5:0] OP_LAYERNORM = 6'h26;
localparam [5:0] OP_RMSNORM = 6'h27;
localparam [5:0] OP_ROPE = 6'h28;
localparam [5:0] OP_GELU = 6'h29;
localparam [5:0] OP_SILU = 6'h2a;
localparam [5:0] OP_RELU = 6'h2d;
localparam [5:0] OP_REQUANT = 6'h2b;
localparam [5:0] OP_VCOPY = 6'h2c;
localparam [5:0] OP_NOP = 6'h30;
localparam [5:0] OP_SYNC = 6'h31;
localparam [5:0] OP_HALT = 6'h3f;

localparam [3:0] DTYPE_INT8 = 4'd0;
localparam [3:0] DTYPE_INT4 = 4'd1;
localparam [3:0] DTYPE_INT2 = 4'd2;
localparam [3:0] DTYPE_INT3 = 4'd3;
localparam [3:0] DTYPE_INT16 = 4'd4;
localparam [3:0] DTYPE_INT32 = 4'd5;
localparam [3:0] DTYPE_FP16 = 4'd6;
localparam [3:0] DTYPE_BF16 = 4'd7;
localparam [3:0] DTYPE_FP32 = 4'd8;
localparam [3:0] DTYPE_FP8 = 4'd9;

localparam [1:0] SPARSE_DENSE = 2'd0;
localparam [1:0] SPARSE_NM = 2'd1;
localparam [1:0] SPARSE_BLOCK = 2'd2;

// format mem: Off-chip <-> on-chip transfer of `rows` rows of `row_bytes` bytes (LD, ST).
localparam integer HDR_OPCODE_LO = 0;
localparam integer HDR_OPCODE_W = 6;
localparam integer HDR_WAIT_LO = 6;
localparam integer HDR_WAIT_W = 6;
localparam integer HDR_RELEASE_LO = 12;
localparam integer HDR_RELEASE_W = 6;
localparam integer HDR_UNIT_LO = 18;
localparam integer HDR_UNIT_W = 3;
localparam integer MEM_BUF_LO = 21;
localparam integer MEM_BUF_W = 4;
localparam integer MEM_DTYPE_LO = 25;
localparam integer MEM_DTYPE_W = 4;
localparam integer MEM_SRAM_ADDR_LO = 29;
localparam integer MEM_SRAM_ADDR_W = 32;
localparam integer MEM_DRAM_ADDR_LO = 61;
localparam integer MEM_DRAM_ADDR_W = 48;
localparam integer MEM_ROWS_LO = 109;
localparam integer MEM_ROWS_W = 16;
localparam integer MEM_ROW_BYTES_LO = 125;
localparam integer MEM_ROW_BYTES_W = 24;
localparam integer MEM_SRAM_STRIDE_BYTES_LO = 149;
localparam integer MEM_SRAM_STRIDE_BYTES_W = 24;
localparam integer MEM_DRAM_STRIDE_BYTES_LO = 173;
localparam integer MEM_DRAM_STRIDE_BYTES_W = 40;
localparam integer MEM_RESERVED_LO = 213;
localparam integer MEM_RESERVED_W = 43;

// format matrix: out[i] (m x n) = act[i if act_step else 0] (m x k) @ wgt[i] (k x n), i < count (MM, MV).
localparam integer MATRIX_DTYPE_ACT_LO = 21;
localparam integer MATRIX_DTYPE_ACT_W = 4;
localparam integer MATRIX_DTYPE_WGT_LO = 25;
localparam integer MATRIX_DTYPE_WGT_W = 4;
localparam integer MATRIX_DTYPE_OUT_LO = 29;
localparam integer MATRIX_DTYPE_OUT_W = 4;
localparam integer MATRIX_SPARSE_MODE_LO = 33;
localparam integer MATRIX_SPARSE_MODE_W = 2;
localparam integer MATRIX_SPARSE_N_LO = 35;
localparam integer MATRIX_SPARSE_N_W = 7;
localparam integer MATRIX_SPARSE_M_LO = 42;
localparam integer MATRIX_SPARSE_M_W = 7;
localparam integer MATRIX_M_LO = 49;
localparam integer MATRIX_M_W = 16;
localparam integer MATRIX_N_LO = 65;
localparam integer MATRIX_N_W = 16;
localparam integer MATRIX_K_LO = 81;
localparam integer MATRIX_K_W = 16;
localparam integer MATRIX_ACT_BUF_LO = 97;
localparam integer MATRIX_ACT_BUF_W = 4;
localparam integer MATRIX_ACT_ADDR_LO = 101;
localparam integer MATRIX_ACT_ADDR_W = 32;
localparam integer MATRIX_WGT_BUF_LO = 133;
localparam integer MATRIX_WGT_BUF_W = 4;
localparam integer MATRIX_WGT_ADDR_LO = 137;
localparam integer MATRIX_WGT_ADDR_W = 40;
localparam integer MATRIX_OUT_BUF_LO = 177;
localparam integer MATRIX_OUT_BUF_W = 4;
localparam integer MATRIX_OUT_ADDR_LO = 181;
localparam integer MATRIX_OUT_ADDR_W = 32;
localparam integer MATRIX_ACCUMULATE_LO = 213;
localparam integer MATRIX_ACCUMULATE_W = 1;
localparam integer MATRIX_COUNT_LO = 214;
localparam integer MATRIX_COUNT_W = 16;
localparam integer MATRIX_ACT_STEP_LO = 230;
localparam integer MATRIX_ACT_STEP_W = 1;
localparam integer MATRIX_WGT_TRANSPOSED_LO = 231;
localparam integer MATRIX_WGT_TRANSPOSED_W = 1;
localparam integer MATRIX_RESERVED_LO = 232;
localparam integer MATRIX_RESERVED_W = 24;

// format vector: dst[i] = op(src0[i], src1[i]) over `rows` x `cols` elements, for i < count (VEC).
localparam integer VECTOR_DTYPE_IN_LO = 21;
localparam integer VECTOR_DTYPE_IN_W = 4;
localparam integer VECTOR_DTYPE_OUT_LO = 25;
localparam integer VECTOR_DTYPE_OUT_W = 4;
localparam integer VECTOR_ROWS_LO = 29;
localparam integer VECTOR_ROWS_W = 16;
localparam integer VECTOR_COLS_LO = 45;
localparam integer VECTOR_COLS_W = 16;
localparam integer VECTOR_SRC0_BUF_LO = 61;
localparam integer VECTOR_SRC0_BUF_W = 4;
localparam integer VECTOR_SRC0_ADDR_LO = 65;
localparam integer VECTOR_SRC0_ADDR_W = 32;
localparam integer VECTOR_SRC1_BUF_LO = 97;
localparam integer VECTOR_SRC1_BUF_W = 4;
localparam integer VECTOR_SRC1_ADDR_LO = 101;
localparam integer VECTOR_SRC1_ADDR_W = 32;
localparam integer VECTOR_DST_BUF_LO = 133;
localparam integer VECTOR_DST_BUF_W = 4;
localparam integer VECTOR_DST_ADDR_LO = 137;
localparam integer VECTOR_DST_ADDR_W = 32;
localparam integer VECTOR_IMM_LO = 169;
localparam integer VECTOR_IMM_W = 32;
localparam integer VECTOR_SHIFT_LO = 201;
localparam integer VECTOR_SHIFT_W = 8;
localparam integer VECTOR_COUNT_LO = 209;
localparam integer VECTOR_COUNT_W = 16;
localparam integer VECTOR_RESERVED_LO = 225;
localparam integer VECTOR_RESERVED_W = 31;

// format system: Synchronisation and control (SYS).
localparam integer SYSTEM_IMM_LO = 21;
localparam integer SYSTEM_IMM_W = 32;
localparam integer SYSTEM_RESERVED_LO = 53;
localparam integer SYSTEM_RESERVED_W = 203;

`endif
