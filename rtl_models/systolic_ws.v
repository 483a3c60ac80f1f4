// Weight-stationary R x C systolic array (SCALE-Sim WS dataflow), the RTL of
// hwsim.unit_models.systolic_cycles.
//
// PE(k, n) holds weight W[k][n]; activation row i (A[i][0..R-1]) enters unskewed on a_row and
// is skewed inside (array row k sees it k cycles later); it moves right one PE per cycle while
// partial sums move down one PE per cycle. Column n's sum leaves PE(R-1, n) and is de-skewed
// (C-1-n registers) so a whole output row leaves at once on out_row.
//
// Timing of one fold (edges counted inclusively, first sampled input .. last registered output):
//   preload: w_valid for R cycles, bottom weight row (k = R-1) first: R edges;
//   stream:  a_valid for m cycles right after the preload; row i is registered by PE(0,0) at
//            edge s_i and leaves on out_row at edge s_i + R + C - 2;
//   total:   R + (m - 1) + (R + C - 1) = 2R + C + m - 2 == systolic_cycles(m, C, R, 1, R, C, 1).
// A new preload may start on the edge after the fold's last output (no double buffering: the
// simulator's formula charges folds back to back without overlap).
module systolic_ws #(
    parameter integer R = 4,        // array rows: the k (reduction) extent of one fold
    parameter integer C = 4,        // array columns: the n extent of one fold
    parameter integer A_W = 8,      // activation width (signed)
    parameter integer W_W = 8,      // weight width (signed)
    parameter integer ACC_W = 32    // partial-sum / output width (signed), > A_W + W_W
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  w_valid,
    input  wire [C*W_W-1:0]      w_row,     // W[k][0..C-1], element n at bits [n*W_W +: W_W]
    input  wire                  a_valid,
    input  wire [R*A_W-1:0]      a_row,     // A[i][0..R-1], element k at bits [k*A_W +: A_W]
    output wire                  out_valid,
    output wire [C*ACC_W-1:0]    out_row    // (A W)[i][0..C-1], element n at [n*ACC_W +: ACC_W]
);
    // Weight registers, loaded by shifting rows down from the top.
    reg signed [W_W-1:0] weight [0:R-1][0:C-1];

    genvar k, n;
    integer i, j;

    // ---- weight preload: row 0 takes w_row, row k takes row k-1's previous weights --------
    always @(posedge clk) begin
        if (w_valid) begin
            for (j = 0; j < C; j = j + 1) begin
                weight[0][j] <= $signed(w_row[j*W_W +: W_W]);
                for (i = 1; i < R; i = i + 1)
                    weight[i][j] <= weight[i-1][j];
            end
        end
    end

    // ---- input skew: array row k sees a_row[k] after k registers (row 0: none) ------------
    wire signed [A_W-1:0] a_skewed [0:R-1];
    generate
        for (k = 0; k < R; k = k + 1) begin : g_skew
            if (k == 0) begin : g_direct
                assign a_skewed[0] = a_valid ? $signed(a_row[0 +: A_W]) : {A_W{1'b0}};
            end else begin : g_delay
                reg signed [A_W-1:0] line [0:k-1];
                always @(posedge clk) begin
                    line[0] <= a_valid ? $signed(a_row[k*A_W +: A_W]) : {A_W{1'b0}};
                    for (i = 1; i < k; i = i + 1)
                        line[i] <= line[i-1];
                end
                assign a_skewed[k] = line[k-1];
            end
        end
    endgenerate

    // ---- PE grid: each PE registers its activation (to the right) and partial sum (down) --
    generate
        for (k = 0; k < R; k = k + 1) begin : g_row
            for (n = 0; n < C; n = n + 1) begin : g_col
                /* verilator lint_off UNUSEDSIGNAL */  // the last column's a_q feeds nothing
                reg signed [A_W-1:0]   a_q;
                /* verilator lint_on UNUSEDSIGNAL */
                reg signed [ACC_W-1:0] ps_q;
                wire signed [A_W-1:0]   a_in;
                wire signed [ACC_W-1:0] ps_in;
                wire signed [A_W+W_W-1:0] prod = a_in * weight[k][n];
                if (n == 0) begin : g_left
                    assign a_in = a_skewed[k];
                end else begin : g_inner
                    assign a_in = g_row[k].g_col[n-1].a_q;
                end
                if (k == 0) begin : g_top
                    assign ps_in = {ACC_W{1'b0}};
                end else begin : g_below
                    assign ps_in = g_row[k-1].g_col[n].ps_q;
                end
                always @(posedge clk) begin
                    a_q  <= a_in;
                    ps_q <= ps_in + {{(ACC_W-A_W-W_W){prod[A_W+W_W-1]}}, prod};
                end
            end
        end
    endgenerate

    // ---- output de-skew: column n waits C-1-n more cycles -------------------------------
    generate
        for (n = 0; n < C; n = n + 1) begin : g_deskew
            if (n == C - 1) begin : g_direct
                assign out_row[n*ACC_W +: ACC_W] = g_row[R-1].g_col[n].ps_q;
            end else begin : g_delay
                reg signed [ACC_W-1:0] line [0:C-2-n];
                always @(posedge clk) begin
                    line[0] <= g_row[R-1].g_col[n].ps_q;
                    for (i = 1; i < C - 1 - n; i = i + 1)
                        line[i] <= line[i-1];
                end
                assign out_row[n*ACC_W +: ACC_W] = line[C-2-n];
            end
        end
    endgenerate

    // ---- valid: R + C - 1 registers from a_valid to out_valid ----------------------------
    localparam integer LAT = R + C - 1;
    reg [LAT:0] valid_line;   // bit 0 is a_valid itself; bits 1..LAT are registers
    always @(posedge clk) begin
        if (rst) valid_line[LAT:1] <= {LAT{1'b0}};
        else     valid_line[LAT:1] <= valid_line[LAT-1:0];
    end
    always @(*) valid_line[0] = a_valid;
    assign out_valid = valid_line[LAT];
endmodule
