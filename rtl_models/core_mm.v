// The ISA core's MATMUL sequencer: runs one MATMUL (dense int8 x int8 -> int32) on a
// weight-stationary R x C systolic array (systolic_ws.v), fold after fold, back to back:
//   for i < count, for each C-column block nb, for each R-row block kb of k:
//     preload W[kb*R .. kb*R+R-1][nb*C ..] (bottom row first), stream the m activation rows
//     A[0..m-1][kb*R ..], and add each output row into out[i] (the first k block overwrites
//     unless `accumulate`).
// Operands live in the scratchpad, row-major and contiguous: act m x k (advancing m*k bytes per
// i when act_step), weights k x n (k*n bytes per i), out m x n int32 little-endian (m*n*4 per i).
// The first beat is driven in the issue cycle and the next fold's first beat in the cycle its
// predecessor's last output appears, so an instruction takes exactly
// count * ceil(k/R) * ceil(n/C) * (2R + C + m - 2) == hwsim.unit_models.systolic_cycles cycles.
module core_mm #(
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer WIN = 64          // scratchpad window width (bytes), >= max(R, 4*C)
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              issue,
    input  wire [15:0]       i_m, i_n, i_k, i_count,
    input  wire [31:0]       i_act, i_wgt, i_out,
    input  wire              i_accumulate, i_act_step,
    output reg               busy,
    output wire              finishing,
    output wire [31:0]       rd0_addr,     // beat operand window
    input  wire [WIN*8-1:0]  rd0_data,
    output wire [31:0]       rd1_addr,     // the output row being accumulated
    input  wire [WIN*8-1:0]  rd1_data,
    output wire              wr_en,
    output wire [31:0]       wr_addr,
    output reg  [WIN*8-1:0]  wr_data,
    output reg  [WIN-1:0]    wr_mask
);
    localparam [1:0] PRE = 2'd0, STREAM = 2'd1, DRAIN = 2'd2;
    reg [15:0] f_m, f_n, f_k, f_count, g, nb, kb, bi, oi;
    reg [31:0] f_act, f_wgt, f_out;
    reg f_accumulate, f_act_step;
    reg [1:0] ph;

    wire [15:0] nb_last = (f_n + C - 1) / C - 1;
    wire [15:0] kb_last = (f_k + R - 1) / R - 1;
    wire sa_out_valid;
    wire [C*32-1:0] sa_out;
    wire last_out = busy && sa_out_valid && (oi == f_m - 1);
    wire last_fold = (g == f_count - 1) && (nb == nb_last) && (kb == kb_last);
    assign finishing = last_out && last_fold;

    // ---- the effective state of this cycle: a new instruction, the next fold, or the registers
    wire next_fold = last_out && !last_fold;
    reg [15:0] e_m, e_n, e_k, e_g, e_nb, e_kb, e_bi;
    reg [31:0] e_act, e_wgt;
    reg e_act_step;
    reg [1:0] e_ph;
    always @(*) begin
        if (issue) begin
            {e_m, e_n, e_k, e_act, e_wgt, e_act_step} = {i_m, i_n, i_k, i_act, i_wgt, i_act_step};
            {e_g, e_nb, e_kb, e_ph, e_bi} = {16'd0, 16'd0, 16'd0, PRE, 16'd0};
        end else begin
            {e_m, e_n, e_k, e_act, e_wgt, e_act_step} = {f_m, f_n, f_k, f_act, f_wgt, f_act_step};
            {e_g, e_nb, e_kb, e_ph, e_bi} = {g, nb, kb, ph, bi};
            if (next_fold) begin
                e_ph = PRE;
                e_bi = 16'd0;
                if (kb != kb_last) e_kb = kb + 16'd1;
                else begin
                    e_kb = 16'd0;
                    if (nb != nb_last) e_nb = nb + 16'd1;
                    else begin
                        e_nb = 16'd0;
                        e_g = g + 16'd1;
                    end
                end
            end
        end
    end
    wire active = issue || (busy && !finishing && (ph != DRAIN || next_fold));
    wire [15:0] kk = e_kb * R + (R - 1 - e_bi);           // weight row of a preload beat
    assign rd0_addr = (e_ph == PRE) ? e_wgt + e_g * e_k * e_n + kk * e_n + e_nb * C
                    : e_act + (e_act_step ? e_g * e_m * e_k : 0) + e_bi * e_k + e_kb * R;

    reg [C*8-1:0] w_row;
    reg [R*8-1:0] a_row;
    integer j;
    always @(*) begin
        for (j = 0; j < C; j = j + 1)
            w_row[j*8 +: 8] = (kk < e_k && e_nb * C + j < e_n) ? rd0_data[j*8 +: 8] : 8'd0;
        for (j = 0; j < R; j = j + 1)
            a_row[j*8 +: 8] = (e_kb * R + j < e_k) ? rd0_data[j*8 +: 8] : 8'd0;
    end

    systolic_ws #(.R(R), .C(C)) array (
        .clk(clk), .rst(rst),
        .w_valid(active && e_ph == PRE), .w_row(w_row),
        .a_valid(active && e_ph == STREAM), .a_row(a_row),
        .out_valid(sa_out_valid), .out_row(sa_out));

    // ---- output rows: out[g][oi][nb*C + c] (+)= array output --------------------------------
    assign rd1_addr = f_out + (g * f_m * f_n + oi * f_n + nb * C) * 4;
    assign wr_addr = rd1_addr;
    assign wr_en = busy && sa_out_valid;
    wire fresh = (kb == 16'd0) && !f_accumulate;
    always @(*) begin
        wr_data = {WIN*8{1'b0}};
        wr_mask = {WIN{1'b0}};
        for (j = 0; j < C; j = j + 1) begin
            wr_data[j*32 +: 32] = fresh ? sa_out[j*32 +: 32]
                                        : rd1_data[j*32 +: 32] + sa_out[j*32 +: 32];
            if (nb * C + j < f_n) wr_mask[j*4 +: 4] = 4'hf;
        end
    end

    always @(posedge clk) begin
        if (rst) busy <= 1'b0;
        else begin
            if (issue) begin
                busy <= 1'b1;
                {f_m, f_n, f_k, f_count} <= {i_m, i_n, i_k, i_count};
                {f_act, f_wgt, f_out} <= {i_act, i_wgt, i_out};
                {f_accumulate, f_act_step} <= {i_accumulate, i_act_step};
            end else if (finishing) busy <= 1'b0;
            if (issue || next_fold || (busy && sa_out_valid && last_out)) oi <= 16'd0;
            else if (busy && sa_out_valid) oi <= oi + 16'd1;
            if (active) begin
                {g, nb, kb} <= {e_g, e_nb, e_kb};
                if (e_ph == PRE && e_bi == R - 1) {ph, bi} <= {STREAM, 16'd0};
                else if (e_ph == STREAM && e_bi == e_m - 1) {ph, bi} <= {DRAIN, 16'd0};
                else {ph, bi} <= {e_ph, e_bi + 16'd1};
            end
        end
    end
endmodule
