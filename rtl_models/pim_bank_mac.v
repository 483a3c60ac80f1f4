// One HBM-PIM bank's MAC unit as NeuPIMs describes it (Newton-style): MULT multipliers and an
// adder tree per bank, fed from the bank's row buffer (ROW_BYTES) and a global buffer holding
// the broadcast query vector. The RTL of hwsim.unit_models.pim_cycles for one bank:
//
//   pim_cycles(m, n, k, 1, timing, banks=1, MULT, ROW_BYTES, EB)
//     = m * sum over segments s of
//           ((TCCD_S + TCCD_L) * 32                    GWRITE: broadcast of the segment
//            + rows_s * (TRCD + TRP)                   open (ACT) and close (PRE) each DRAM row
//            + ceil(n*k_s / MULT) * TCCD_L)            one PIM_DOTPRODUCT per column, tCCD_L apart
//   the global buffer holds KMAX = 32*MULT elements, so the query vector runs in segments of
//   k_s = KMAX elements (the last one: the rest); rows_s = ceil(n*k_s*EB / ROW_BYTES)
//
// NeuPIMs computes in FP16; this RTL checks the integer datapath and the command timing:
// EB = 1 (int8) or 2 (int16) operands, products summed exactly, each output saturated to int32
// (isa.intmath.saturate_int32) when its query vector completes.
//
// Matrix layout (the formula's flat element count): segment s of W (its n x k_s block of
// columns s*KMAX .. s*KMAX + k_s - 1, row-major) is stored flat from a fresh DRAM row, the row
// after the previous segment's last; within a segment element f sits at DRAM row f / (COLS*MULT), column (f / MULT) % COLS, lane f % MULT, with
// COLS = ROW_BYTES / (EB*MULT) columns per row (ROW_BYTES must be a multiple of EB*MULT). Lane j
// of a column multiplies W_flat[f] by x[f % k] and its product belongs to output f / k. When k is
// not a multiple of MULT a column straddles outputs: the adder tree is segmented (the products
// of each output are summed apart); with k % MULT == 0 it is one plain tree per column. Lanes
// past n*k (the tail of the last column) are masked.
//
// Per query vector (T_v cycles, vectors back to back), per segment:
//   GWRITE: 32 global-buffer column writes (MULT elements each), TCCD_S + TCCD_L cycles each;
//           the cycle that samples the vector (in_valid) is the first segment's first cycle;
//   per DRAM row of the segment: PRE (TRP cycles: close the row open before), ACT (TRCD cycles, the row is
//           latched into the row buffer on the last), then one dot per column of the row,
//           TCCD_L cycles each (the MAC registers on the interval's last cycle);
//   the last dot of the last segment registers the n results (out_valid, one beat per query
//   vector); the partial sums carry over between segments.
// Counted inclusively from the edge sampling the vector to the one registering its results, a
// GEMV of m vectors takes exactly m * T_v == pim_cycles(...).
//
// Setup (untimed, before a GEMV): w_valid writes one column (MULT elements) of the bank's DRAM
// array at w_addr = row * COLS + column: the model assumes the matrix resident in the bank.
module pim_bank_mac #(
    parameter integer MULT = 4,         // multipliers per bank (lanes of one column)
    parameter integer ROW_BYTES = 32,   // row buffer size
    parameter integer EB = 1,           // element bytes: 1 = int8, 2 = int16
    parameter integer ROWS = 16,        // DRAM rows modelled (capacity ROWS * ROW_BYTES / EB)
    parameter integer NMAX = 8,         // outputs per GEMV (accumulators)
    parameter integer MMAX = 4,         // query-vector queue depth
    parameter integer TRCD = 3,
    parameter integer TRP = 2,
    parameter integer TCCD_S = 1,
    parameter integer TCCD_L = 2,
    parameter integer SEGS = 1          // global-buffer segments per query vector (k <= SEGS*32*MULT)
) (
    input  wire                           clk,
    input  wire                           rst,
    // setup: write one DRAM column
    input  wire                           w_valid,
    input  wire [15:0]                    w_addr,
    input  wire [MULT*8*EB-1:0]           w_data,   // lane j at [j*8*EB +: 8*EB], signed
    // query vectors: one per beat (n, k the same on every beat of a GEMV)
    input  wire                           in_valid,
    input  wire [SEGS*32*MULT*8*EB-1:0]   x,        // element i at [i*8*EB +: 8*EB], signed
    input  wire [15:0]                    n,
    input  wire [15:0]                    k,
    output reg                            out_valid,
    output wire [NMAX*32-1:0]             out       // output o at [o*32 +: 32], signed
);
    localparam integer EW = 8 * EB;
    localparam integer CW = MULT * EW;                  // column width (bits)
    localparam integer COLS = ROW_BYTES / (EB * MULT);  // columns per DRAM row
    localparam integer GB_COLS = 32;                    // GWRITE writes 32 columns
    localparam integer KMAX = GB_COLS * MULT;
    localparam integer GWC = TCCD_S + TCCD_L;           // cycles per GWRITE column
    localparam integer AW = 64;                         // exact accumulator width
    localparam [2:0] S_IDLE = 3'd0, S_GW = 3'd1, S_PRE = 3'd2, S_ACT = 3'd3, S_DOT = 3'd4;

    initial begin
        if (COLS * EB * MULT != ROW_BYTES || COLS < 1) begin
            $display("pim_bank_mac: ROW_BYTES (%0d) must be a multiple of EB*MULT (%0d)",
                     ROW_BYTES, EB * MULT);
            $finish;
        end
    end

    integer i, j, o;

    // ---- the bank's DRAM array and its row buffer --------------------------------------------
    reg [CW-1:0] mem [0:ROWS*COLS-1];
    reg [CW-1:0] rowbuf [0:COLS-1];
    always @(posedge clk)
        if (w_valid) mem[w_addr] <= w_data;

    // ---- query-vector queue (the host side of GWRITE) ----------------------------------------
    reg [SEGS*KMAX*EW-1:0] queue [0:MMAX-1];
    reg [15:0] q_head, q_tail, q_count;
    wire [SEGS*KMAX*EW-1:0] q_front = queue[q_head];

    // ---- control -------------------------------------------------------------------------------
    reg [2:0] state;
    reg [15:0] cnt;        // cycles left in the current phase, this one included
    reg [5:0] gcol;        // global-buffer column being written
    reg [15:0] row, col;   // DRAM row / column of the current dot
    reg [31:0] f0;         // flat index of lane 0 of the current dot
    reg [15:0] kpos;       // f0 % k
    reg [15:0] obase;      // f0 / k
    reg [15:0] k_q;        // k_s: elements of the current segment
    reg [31:0] e_q;        // n * k_s
    reg [15:0] n_in, k_in; // the GEMV's n and k (from in_valid)
    reg [15:0] gseg;       // current global-buffer segment
    wire [31:0] k_left = {16'd0, k_in} - gseg * KMAX;  // elements from this segment on
    wire [15:0] k_seg = (k_left > KMAX) ? KMAX : k_left[15:0];
    wire last_seg = (k_left <= KMAX);
    reg [KMAX*EW-1:0] gb;  // global buffer: the broadcast query vector

    // ---- datapath: MULT multipliers + segmented adder tree ------------------------------------
    wire [CW-1:0] column = rowbuf[col];
    reg [15:0] kp [0:MULT];        // k position of lane j (kp[MULT]: next dot's lane 0)
    reg [15:0] sg [0:MULT];        // output offset of lane j from obase
    reg signed [AW-1:0] prod [0:MULT-1];
    reg signed [AW-1:0] seg [0:MULT-1];   // per-output sums of this column
    reg signed [AW-1:0] acc [0:NMAX-1];
    reg signed [AW-1:0] acc_next [0:NMAX-1];
    reg signed [EW-1:0] wj, xj;
    always @(*) begin
        kp[0] = kpos;
        sg[0] = 16'd0;
        for (j = 0; j < MULT; j = j + 1) begin
            wj = column[j*EW +: EW];
            xj = gb[kp[j]*EW +: EW];
            if (f0 + j < e_q) prod[j] = wj * xj;    // signed, exact in AW bits
            else prod[j] = {AW{1'b0}};
            if (kp[j] + 16'd1 == k_q) begin
                kp[j+1] = 16'd0;
                sg[j+1] = sg[j] + 16'd1;
            end else begin
                kp[j+1] = kp[j] + 16'd1;
                sg[j+1] = sg[j];
            end
        end
        for (i = 0; i < MULT; i = i + 1) begin
            seg[i] = {AW{1'b0}};
            for (j = 0; j < MULT; j = j + 1)
                if (sg[j] == i) seg[i] = seg[i] + prod[j];
        end
        for (o = 0; o < NMAX; o = o + 1)
            if (o >= obase && o - obase < MULT) acc_next[o] = acc[o] + seg[o - obase];
            else acc_next[o] = acc[o];
    end

    // ---- results: saturate to int32 -----------------------------------------------------------
    reg [31:0] out_q [0:NMAX-1];
    genvar g;
    generate
        for (g = 0; g < NMAX; g = g + 1) begin : g_out
            assign out[g*32 +: 32] = out_q[g];
        end
    endgenerate
    function [31:0] sat32;
        input signed [AW-1:0] v;
        sat32 = (v > 64'sd2147483647) ? 32'h7fffffff :
                (v < -64'sd2147483648) ? 32'h80000000 : v[31:0];
    endfunction

    wire last_dot = (f0 + MULT >= e_q);
    wire more = (q_count != 16'd0) || in_valid;   // another query vector waiting
    wire pop = (state == S_GW) && (cnt == 16'd1) && (gcol == GB_COLS - 1) && last_seg;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
            q_head <= 16'd0;
            q_tail <= 16'd0;
            q_count <= 16'd0;
            out_valid <= 1'b0;
            for (o = 0; o < NMAX; o = o + 1) acc[o] <= {AW{1'b0}};
        end else begin
            out_valid <= 1'b0;
            // queue push / pop
            if (in_valid) begin
                queue[q_tail] <= x;
                q_tail <= (q_tail == MMAX - 1) ? 16'd0 : q_tail + 16'd1;
                n_in <= n;
                k_in <= k;
            end
            if (pop) q_head <= (q_head == MMAX - 1) ? 16'd0 : q_head + 16'd1;
            q_count <= q_count + (in_valid ? 16'd1 : 16'd0) - (pop ? 16'd1 : 16'd0);

            case (state)
                S_IDLE: if (more) begin      // this edge is GWRITE's first cycle
                    state <= S_GW;
                    cnt <= GWC - 1;
                    gcol <= 6'd0;
                    gseg <= 16'd0;
                    row <= 16'd0;
                end
                S_GW: if (cnt == 16'd1) begin
                    gb[gcol*CW +: CW] <= q_front[(gseg*GB_COLS + gcol)*CW +: CW];
                    if (gcol == GB_COLS - 1) begin
                        state <= S_PRE;
                        cnt <= TRP;
                        k_q <= k_seg;
                        e_q <= n_in * k_seg;
                        col <= 16'd0;
                        f0 <= 32'd0;
                        kpos <= 16'd0;
                        obase <= 16'd0;
                    end else begin
                        gcol <= gcol + 6'd1;
                        cnt <= GWC;
                    end
                end else cnt <= cnt - 16'd1;
                S_PRE: if (cnt == 16'd1) begin
                    state <= S_ACT;
                    cnt <= TRCD;
                end else cnt <= cnt - 16'd1;
                S_ACT: if (cnt == 16'd1) begin
                    for (i = 0; i < COLS; i = i + 1) rowbuf[i] <= mem[row*COLS + i];
                    state <= S_DOT;
                    cnt <= TCCD_L;
                end else cnt <= cnt - 16'd1;
                S_DOT: if (cnt == 16'd1) begin
                    f0 <= f0 + MULT;
                    kpos <= kp[MULT];
                    obase <= obase + sg[MULT];
                    if (last_dot && !last_seg) begin   // next segment: GWRITE, fresh row
                        for (o = 0; o < NMAX; o = o + 1) acc[o] <= acc_next[o];
                        gseg <= gseg + 16'd1;
                        row <= row + 16'd1;
                        state <= S_GW;
                        cnt <= GWC;
                        gcol <= 6'd0;
                    end else if (last_dot) begin
                        for (o = 0; o < NMAX; o = o + 1) begin
                            out_q[o] <= sat32(acc_next[o]);
                            acc[o] <= {AW{1'b0}};
                        end
                        out_valid <= 1'b1;
                        gseg <= 16'd0;
                        row <= 16'd0;
                        if (more) begin
                            state <= S_GW;
                            cnt <= GWC;
                            gcol <= 6'd0;
                        end else state <= S_IDLE;
                    end else begin
                        for (o = 0; o < NMAX; o = o + 1) acc[o] <= acc_next[o];
                        if (col == COLS - 1) begin
                            row <= row + 16'd1;
                            col <= 16'd0;
                            state <= S_PRE;
                            cnt <= TRP;
                        end else begin
                            col <= col + 16'd1;
                            cnt <= TCCD_L;
                        end
                    end
                end else cnt <= cnt - 16'd1;
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
