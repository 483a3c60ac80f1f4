// A small ISA-executing core: runs a whole compiled `.hwx` tile program.
//
// Fetch: the program's words (256 bits, queue by queue, as hwsim.program_arrays orders them)
// come from code.hex; qstart.hex holds the index of each queue's first word (7 entries, the
// last = the word count); dram_in.hex holds the off-chip memory image (one byte a line). All
// three are written by rtl_models/program_cosim.py into the simulator's working directory.
// Decode: the bit fields of isa_fields.vh, generated from isa/formats.py.
// Issue, per queue and in order (VTA-style decoupled queues, as hwsim.timing.engine): the head
// of queue q issues in cycle c when the queue's previous instruction has ended (its executor is
// idle, or finishing in c) and, for every queue s in its wait mask, the token counter (s, q) is
// positive (counting a token released in c). An instruction ending in c gives one token to
// each queue in its release mask. start = c; end = the cycle its executor finishes.
// Executors: LD / ST through dram_timing.v (the bank timing of hwsim.memory), MM through
// core_mm.v (systolic array), VEC through core_vec.v (REQUANT, VEXP), SYS (NOP / SYNC / HALT)
// in one cycle. One scratchpad (buffer 0), byte-addressed.
// Unsupported (MV queue, other vector opcodes, other buffers, sparse or non-int8 matrices) sets
// `error` and stops issuing. When every queue has drained, `done` rises and the core writes
// trace_start.hex / trace_end.hex (per instruction, cycles) and dram_out.hex.
`include "isa_fields.vh"
module isa_core #(
    parameter integer CODE_WORDS = 64,
    parameter integer SPAD_BYTES = 65536,
    parameter integer DRAM_BYTES = 65536,
    parameter integer R = 4, parameter integer C = 4, parameter integer LANES = 4,
    parameter integer BANKS = 4, parameter integer PAGE_BYTES = 1024,
    parameter integer BURST_BYTES = 64, parameter integer INTERLEAVE_BYTES = 256,
    parameter integer BURST_CYCLES = 2,
    parameter integer TRCD = 14, parameter integer TRP = 14, parameter integer TRAS = 34,
    parameter integer CL = 14, parameter integer CWL = 4, parameter integer TCCD = 1,
    parameter integer TREFI = 3900, parameter integer TRFC = 260,
    parameter integer EXTRA_CYCLES = 0
) (
    input  wire        clk,
    input  wire        rst,
    output reg         done,
    output reg         error,
    output reg  [39:0] now
);
    localparam integer WIN = 64;
    localparam integer NQ = 6;
    reg [255:0] code [0:CODE_WORDS-1];
    reg [15:0] qstart [0:NQ];
    reg [7:0] spad [0:SPAD_BYTES-1];
    reg [7:0] dram [0:DRAM_BYTES-1];
    reg [39:0] tr_start [0:CODE_WORDS-1];
    reg [39:0] tr_end [0:CODE_WORDS-1];
    integer i, s, d;
    initial begin
        for (i = 0; i < CODE_WORDS; i = i + 1) begin
            tr_start[i] = 40'd0;
            tr_end[i] = 40'd0;
        end
        $readmemh("code.hex", code);
        $readmemh("qstart.hex", qstart);
        $readmemh("dram_in.hex", dram);
    end

    // ---- fetch and decode the head of every queue --------------------------------------------
    reg [15:0] ptr [0:NQ-1];
    reg [255:0] head [0:NQ-1];
    reg [NQ-1:0] has_head;
    reg [5:0] h_op [0:NQ-1];
    reg [5:0] h_wait [0:NQ-1];
    always @(*)
        for (i = 0; i < NQ; i = i + 1) begin
            has_head[i] = ptr[i] < qstart[i+1];
            head[i] = has_head[i] ? code[ptr[i]] : 256'd0;
            h_op[i] = head[i][HDR_OPCODE_LO +: HDR_OPCODE_W];
            h_wait[i] = head[i][HDR_WAIT_LO +: HDR_WAIT_W];
        end
    wire [255:0] w_ld = head[QUEUE_LD], w_st = head[QUEUE_ST], w_mm = head[QUEUE_MM];
    wire [255:0] w_vec = head[QUEUE_VEC];
    `define F(word, name) word[name``_LO +: name``_W]

    // ---- executors' state ----------------------------------------------------------------------
    reg [NQ-1:0] busy;                 // LD, ST, SYS (MM, VEC: the sequencers' own busy)
    reg [5:0] rel [0:NQ-1];            // release mask of the instruction in flight
    reg [15:0] cur [0:NQ-1];           // its word index (trace)
    reg [NQ-1:0] end_known;
    reg [39:0] end_at [0:NQ-1];
    wire mm_busy, mm_fin, vec_busy, vec_fin;
    reg [NQ-1:0] running, fin;
    always @(*) begin
        running = busy;
        running[QUEUE_MM] = mm_busy;
        running[QUEUE_VEC] = vec_busy;
        fin = {NQ{1'b0}};
        fin[QUEUE_LD] = busy[QUEUE_LD] && end_known[QUEUE_LD] && now == end_at[QUEUE_LD];
        fin[QUEUE_ST] = busy[QUEUE_ST] && end_known[QUEUE_ST] && now == end_at[QUEUE_ST];
        fin[QUEUE_SYS] = busy[QUEUE_SYS];
        fin[QUEUE_MM] = mm_fin;
        fin[QUEUE_VEC] = vec_fin;
    end

    // ---- tokens and issue ------------------------------------------------------------------------
    reg [7:0] tokens [0:NQ*NQ-1];      // (source s, destination d) at s*NQ + d
    reg [NQ-1:0] supported, ready, issue;
    always @(*)
        for (d = 0; d < NQ; d = d + 1) begin
            case (d)
                QUEUE_LD: supported[d] = h_op[d] == OP_LOAD && `F(w_ld, MEM_BUF) == 0;
                QUEUE_ST: supported[d] = h_op[d] == OP_STORE && `F(w_st, MEM_BUF) == 0;
                QUEUE_MM: supported[d] = h_op[d] == OP_MATMUL
                    && `F(w_mm, MATRIX_SPARSE_MODE) == SPARSE_DENSE
                    && `F(w_mm, MATRIX_DTYPE_ACT) == DTYPE_INT8
                    && `F(w_mm, MATRIX_DTYPE_WGT) == DTYPE_INT8
                    && `F(w_mm, MATRIX_DTYPE_OUT) == DTYPE_INT32
                    && `F(w_mm, MATRIX_ACT_BUF) == 0 && `F(w_mm, MATRIX_WGT_BUF) == 0
                    && `F(w_mm, MATRIX_OUT_BUF) == 0 && `F(w_mm, MATRIX_WGT_TRANSPOSED) == 0;
                QUEUE_VEC: supported[d] = (h_op[d] == OP_REQUANT || h_op[d] == OP_VEXP)
                    && `F(w_vec, VECTOR_SRC0_BUF) == 0 && `F(w_vec, VECTOR_DST_BUF) == 0;
                QUEUE_SYS: supported[d] = h_op[d] == OP_NOP || h_op[d] == OP_SYNC
                    || h_op[d] == OP_HALT;
                default: supported[d] = 1'b0;
            endcase
            ready[d] = has_head[d] && (!running[d] || fin[d]);
            for (s = 0; s < NQ; s = s + 1)
                if (h_wait[d][s] && tokens[s*NQ + d] == 0 && !(fin[s] && rel[s][d]))
                    ready[d] = 1'b0;
            issue[d] = ready[d] && supported[d] && !error && !rst;
        end

    // ---- LD / ST: the DRAM timing walker -----------------------------------------------------
    reg [NQ-1:0] pend;                 // a request waiting for the walker (LD, ST)
    reg [255:0] pend_word [0:1];
    reg [39:0] pend_t [0:1];
    wire take_ld = pend[QUEUE_LD] && (!pend[QUEUE_ST] || pend_t[0] <= pend_t[1]);
    wire [255:0] rq = take_ld ? pend_word[0] : pend_word[1];
    wire walker_ready, walk_done, mv_valid, mv_write;
    wire [39:0] walk_end;
    wire [47:0] mv_lo, mv_hi;
    wire [31:0] mv_sram;
    reg walk_owner;                    // 0 = LD, 1 = ST
    dram_timing #(.BANKS(BANKS), .PAGE_BYTES(PAGE_BYTES), .BURST_BYTES(BURST_BYTES),
                  .INTERLEAVE_BYTES(INTERLEAVE_BYTES), .BURST_CYCLES(BURST_CYCLES),
                  .TRCD(TRCD), .TRP(TRP), .TRAS(TRAS), .CL(CL), .CWL(CWL), .TCCD(TCCD),
                  .TREFI(TREFI), .TRFC(TRFC), .EXTRA_CYCLES(EXTRA_CYCLES)) walker (
        .clk(clk), .rst(rst), .req_valid(pend[QUEUE_LD] || pend[QUEUE_ST]),
        .req_write(!take_ld), .req_t(take_ld ? pend_t[0] : pend_t[1]),
        .req_addr(`F(rq, MEM_DRAM_ADDR)), .req_sram(`F(rq, MEM_SRAM_ADDR)),
        .req_rows(`F(rq, MEM_ROWS)), .req_row_bytes(`F(rq, MEM_ROW_BYTES)),
        .req_dram_stride(`F(rq, MEM_DRAM_STRIDE_BYTES)),
        .req_sram_stride(`F(rq, MEM_SRAM_STRIDE_BYTES)),
        .ready(walker_ready), .done(walk_done), .done_end(walk_end), .mv_valid(mv_valid),
        .mv_write(mv_write), .mv_lo(mv_lo), .mv_hi(mv_hi), .mv_sram(mv_sram));

    // ---- MM and VEC sequencers -------------------------------------------------------------------
    wire [31:0] mm_rd0, mm_rd1, mm_wa, vec_rd, vec_wa;
    wire mm_we, vec_we;
    wire [WIN*8-1:0] mm_wd, vec_wd;
    wire [WIN-1:0] mm_wm, vec_wm;
    wire [WIN*8-1:0] mm_rd0_data, mm_rd1_data, vec_rd_data;
    genvar gb;
    generate   // read windows; bytes past the scratchpad (or never written) reach only masked lanes
        for (gb = 0; gb < WIN; gb = gb + 1) begin : g_window
            assign mm_rd0_data[gb*8 +: 8] = spad[(mm_rd0 + gb) % SPAD_BYTES];
            assign mm_rd1_data[gb*8 +: 8] = spad[(mm_rd1 + gb) % SPAD_BYTES];
            assign vec_rd_data[gb*8 +: 8] = spad[(vec_rd + gb) % SPAD_BYTES];
        end
    endgenerate
    core_mm #(.R(R), .C(C), .WIN(WIN)) mm (
        .clk(clk), .rst(rst), .issue(issue[QUEUE_MM]),
        .i_m(`F(w_mm, MATRIX_M)), .i_n(`F(w_mm, MATRIX_N)), .i_k(`F(w_mm, MATRIX_K)),
        .i_count(`F(w_mm, MATRIX_COUNT)), .i_act(`F(w_mm, MATRIX_ACT_ADDR)),
        .i_wgt(`F(w_mm, MATRIX_WGT_ADDR)), .i_out(`F(w_mm, MATRIX_OUT_ADDR)),
        .i_accumulate(`F(w_mm, MATRIX_ACCUMULATE)), .i_act_step(`F(w_mm, MATRIX_ACT_STEP)),
        .busy(mm_busy), .finishing(mm_fin), .rd0_addr(mm_rd0), .rd0_data(mm_rd0_data),
        .rd1_addr(mm_rd1), .rd1_data(mm_rd1_data), .wr_en(mm_we), .wr_addr(mm_wa),
        .wr_data(mm_wd), .wr_mask(mm_wm));
    core_vec #(.LANES(LANES), .WIN(WIN)) vec (
        .clk(clk), .rst(rst), .issue(issue[QUEUE_VEC]), .i_exp(h_op[QUEUE_VEC] == OP_VEXP),
        .i_elements({16'd0, `F(w_vec, VECTOR_ROWS)} * {16'd0, `F(w_vec, VECTOR_COLS)}
                    * {16'd0, `F(w_vec, VECTOR_COUNT)}),
        .i_src(`F(w_vec, VECTOR_SRC0_ADDR)), .i_dst(`F(w_vec, VECTOR_DST_ADDR)),
        .i_imm(`F(w_vec, VECTOR_IMM)), .i_shift(`F(w_vec, VECTOR_SHIFT)),
        .busy(vec_busy), .finishing(vec_fin), .rd_addr(vec_rd), .rd_data(vec_rd_data),
        .wr_en(vec_we), .wr_addr(vec_wa), .wr_data(vec_wd), .wr_mask(vec_wm));

    // ---- state --------------------------------------------------------------------------------------
    wire all_idle = !has_head && !running;
    always @(posedge clk) begin
        if (rst) begin
            now <= 40'd0;
            done <= 1'b0;
            error <= 1'b0;
            busy <= {NQ{1'b0}};
            pend <= {NQ{1'b0}};
            end_known <= {NQ{1'b0}};
            for (i = 0; i < NQ; i = i + 1) ptr[i] <= qstart[i];
            for (i = 0; i < NQ * NQ; i = i + 1) tokens[i] <= 8'd0;
        end else if (!done) begin
            now <= now + 40'd1;
            for (s = 0; s < NQ; s = s + 1)
                for (d = 0; d < NQ; d = d + 1)
                    tokens[s*NQ + d] <= tokens[s*NQ + d] + ((fin[s] && rel[s][d]) ? 8'd1 : 8'd0)
                                        - ((issue[d] && h_wait[d][s]) ? 8'd1 : 8'd0);
            for (i = 0; i < NQ; i = i + 1) begin
                if (fin[i]) begin
                    tr_end[cur[i]] <= now;
                    busy[i] <= 1'b0;
                    end_known[i] <= 1'b0;
                end
                if (issue[i]) begin
                    tr_start[ptr[i]] <= now;
                    cur[i] <= ptr[i];
                    rel[i] <= head[i][HDR_RELEASE_LO +: HDR_RELEASE_W];
                    ptr[i] <= ptr[i] + 16'd1;
                    if (i == QUEUE_LD || i == QUEUE_ST || i == QUEUE_SYS) busy[i] <= 1'b1;
                    if (i == QUEUE_LD || i == QUEUE_ST) begin
                        pend[i] <= 1'b1;
                        pend_word[i] <= head[i];
                        pend_t[i] <= now;
                    end
                end
                if (has_head[i] && !supported[i] && (!running[i] || fin[i])) begin
                    error <= 1'b1;
                    $display("isa_core: unsupported instruction word %0d (opcode 0x%02x) on queue %0d",
                             ptr[i], h_op[i], i);
                end
            end
            if (walker_ready && (pend[QUEUE_LD] || pend[QUEUE_ST])) begin
                walk_owner <= !take_ld;
                pend[take_ld ? QUEUE_LD : QUEUE_ST] <= 1'b0;
            end
            if (walk_done) begin
                end_known[walk_owner ? QUEUE_ST : QUEUE_LD] <= 1'b1;
                end_at[walk_owner ? QUEUE_ST : QUEUE_LD] <= walk_end;
                if (walk_end <= now) begin
                    error <= 1'b1;
                    $display("isa_core: DRAM walk ended at %0d, after its transfer (%0d)", now,
                             walk_end);
                end
            end
            if (all_idle || error) done <= 1'b1;
        end
    end

    // ---- scratchpad and DRAM writes ----------------------------------------------------------------
    always @(posedge clk) begin
        for (i = 0; i < WIN; i = i + 1) begin
            if (mm_we && mm_wm[i]) spad[mm_wa + i] <= mm_wd[i*8 +: 8];
            if (vec_we && vec_wm[i]) spad[vec_wa + i] <= vec_wd[i*8 +: 8];
            if (mv_valid && mv_lo + i < mv_hi) begin
                if (mv_write) dram[mv_lo + i] <= spad[mv_sram + i];
                else spad[mv_sram + i] <= dram[mv_lo + i];
            end
        end
    end
    reg dumped = 1'b0;
    always @(posedge clk)
        if (done && !dumped) begin
            dumped <= 1'b1;
            $writememh("trace_start.hex", tr_start);
            $writememh("trace_end.hex", tr_end);
            $writememh("dram_out.hex", dram);
        end
endmodule
