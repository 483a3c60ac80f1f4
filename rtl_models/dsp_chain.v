// FlightLLM-style matrix processing engine: CHAINS cascaded DSP chains of L DSPs each, the RTL of
// hwsim.unit_models.dsp_chain_cycles.
//
// Each beat carries two activation rows (INT8 2-row packing: one DSP multiplies the packed
// operand a1 * 2^18 + a0 by one weight, the DSP48 27 x 18 trick), L weights per chain and, in
// N:M sparse mode, L indices per chain. Chain c's DSP j multiplies its weight with the
// activation the sparse MUX picks: dense -> position j; sparse -> position
// (j / SP_N) * SP_M + idx[c][j] (only kept weights are fed; k_eff = k * N / M).
//
// Cascade: DSP j adds its packed product to the 48-bit packed sum from DSP j-1 (operands skewed
// by j cycles). The packed low field (18 bits) holds the exact sum of at most 8 INT8 products
// (range [-8*16256, 8*16384], 2^18 values wide), so the chain is cut in segments of 8 DSPs: at a
// segment boundary the packed sum is unpacked into two INT32 accumulators that ride along the
// cascade. For L > 8 the last segment is merged by one extra register stage, FlightLLM's
// overflow-adjust stage; for L <= 8 the unpack is output logic.
//
// Timing (inclusive edges, first sampled beat .. last registered result):
//   operand-select register (1) + L DSP stages + (1 if L > 8) for the first beat, one more
//   per further beat: beats + L + adjust == dsp_chain_cycles(m, n, k_eff, 1, CHAINS, L, 2)
//   with beats = folds * ceil(m / 2).
module dsp_chain #(
    parameter integer L = 8,         // DSPs per chain (cascade length)
    parameter integer CHAINS = 2,    // chains in parallel: output columns per beat
    parameter integer SP_N = 2,      // sparse mode keeps SP_N of every SP_M weights
    parameter integer SP_M = 4,
    parameter integer IW = (SP_M > 1) ? $clog2(SP_M) : 1   // index width (derived; keep default)
) (
    input  wire                          clk,
    input  wire                          rst,
    input  wire                          in_valid,
    input  wire                          sparse,  // 1: N:M index-driven operand selection
    input  wire [2*(L*SP_M/SP_N)*8-1:0]  act,     // row r, position p at [(r*KA + p)*8 +: 8]
    input  wire [CHAINS*L*8-1:0]         wgt,     // chain c, DSP j at [(c*L + j)*8 +: 8]
    input  wire [CHAINS*L*IW-1:0]        idx,     // chain c, DSP j at [(c*L + j)*IW +: IW]
    output wire                          out_valid,
    output wire [CHAINS*2*32-1:0]        out      // chain c, row r at [(c*2 + r)*32 +: 32]
);
    localparam integer KA = L * SP_M / SP_N;           // activation positions per beat
    localparam integer ADJ = (L > 8) ? 1 : 0;
    localparam integer LO_W = 18;                      // packed low field (DSP48 A:B split)
    localparam integer P_W = 48;                       // DSP48 P register
    localparam integer LAT = 1 + L + ADJ;              // operand select + cascade + adjust

    genvar c, j;
    integer i;

    // Unpack a packed sum hi * 2^18 + lo whose lo lies in [-130048, 131072] (<= 8 INT8 products).
    function [63:0] unpack;   // {hi[31:0], lo[31:0]}
        input signed [P_W-1:0] p;
        reg [LO_W-1:0] u;
        reg signed [P_W-1:0] lo, hi;
        begin
            u = p[LO_W-1:0];
            lo = (u > 18'd131072) ? $signed({{(P_W-LO_W){1'b0}}, u}) - (48'sd1 <<< LO_W)
                                  : $signed({{(P_W-LO_W){1'b0}}, u});
            hi = (p - lo) >>> LO_W;
            unpack = {hi[31:0], lo[31:0]};
        end
    endfunction

    generate
        for (c = 0; c < CHAINS; c = c + 1) begin : g_chain
            for (j = 0; j < L; j = j + 1) begin : g_dsp
                // ---- stage 0: sparse MUX (index-driven operand selection), registered --------
                wire [IW-1:0] sel_idx = idx[(c*L + j)*IW +: IW];
                wire [31:0] pos = sparse ? (j / SP_N) * SP_M + sel_idx : j;
                reg signed [7:0] a0_s0, a1_s0, w_s0;
                always @(posedge clk) begin
                    a0_s0 <= act[(0*KA + pos)*8 +: 8];
                    a1_s0 <= act[(1*KA + pos)*8 +: 8];
                    w_s0  <= wgt[(c*L + j)*8 +: 8];
                end
                // ---- skew: DSP j's operands wait j more cycles ------------------------------
                wire signed [7:0] a0, a1, w;
                if (j == 0) begin : g_noskew
                    assign a0 = a0_s0;
                    assign a1 = a1_s0;
                    assign w = w_s0;
                end else begin : g_skew
                    reg [23:0] line [0:j-1];
                    always @(posedge clk) begin
                        line[0] <= {a1_s0, a0_s0, w_s0};
                        for (i = 1; i < j; i = i + 1)
                            line[i] <= line[i-1];
                    end
                    assign {a1, a0, w} = line[j-1];
                end
                // ---- DSP: packed multiply, cascade add ---------------------------------------
                wire signed [26:0] a_packed = ($signed(a1) <<< LO_W) + a0;   // 27-bit A port
                wire signed [34:0] prod = a_packed * w;
                reg signed [P_W-1:0] p_q;
                reg signed [31:0] acc0_q, acc1_q;
                wire signed [P_W-1:0] p_in;
                wire signed [31:0] acc0_in, acc1_in;
                if (j == 0) begin : g_first
                    assign p_in = {P_W{1'b0}};
                    assign acc0_in = 32'sd0;
                    assign acc1_in = 32'sd0;
                end else if (j % 8 == 0) begin : g_segment
                    // previous segment full: unpack its packed sum into the INT32 accumulators
                    wire [63:0] prev = unpack(g_chain[c].g_dsp[j-1].p_q);
                    assign p_in = {P_W{1'b0}};
                    assign acc0_in = g_chain[c].g_dsp[j-1].acc0_q + $signed(prev[31:0]);
                    assign acc1_in = g_chain[c].g_dsp[j-1].acc1_q + $signed(prev[63:32]);
                end else begin : g_cascade
                    assign p_in = g_chain[c].g_dsp[j-1].p_q;
                    assign acc0_in = g_chain[c].g_dsp[j-1].acc0_q;
                    assign acc1_in = g_chain[c].g_dsp[j-1].acc1_q;
                end
                always @(posedge clk) begin
                    p_q <= p_in + {{(P_W-35){prod[34]}}, prod};
                    acc0_q <= acc0_in;
                    acc1_q <= acc1_in;
                end
            end
            // ---- result: unpack the last segment (registered when L > 8: overflow adjust) -----
            wire [63:0] last = unpack(g_chain[c].g_dsp[L-1].p_q);
            wire signed [31:0] r0 = g_chain[c].g_dsp[L-1].acc0_q + $signed(last[31:0]);
            wire signed [31:0] r1 = g_chain[c].g_dsp[L-1].acc1_q + $signed(last[63:32]);
            if (L > 8) begin : g_adjust
                reg signed [31:0] r0_q, r1_q;
                always @(posedge clk) begin
                    r0_q <= r0;
                    r1_q <= r1;
                end
                assign out[(c*2 + 0)*32 +: 32] = r0_q;
                assign out[(c*2 + 1)*32 +: 32] = r1_q;
            end else begin : g_direct
                assign out[(c*2 + 0)*32 +: 32] = r0;
                assign out[(c*2 + 1)*32 +: 32] = r1;
            end
        end
    endgenerate

    // ---- valid: LAT registers from in_valid to out_valid ------------------------------------
    reg [LAT:0] valid_line;   // bit 0 is in_valid itself; bits 1..LAT are registers
    always @(posedge clk) begin
        if (rst) valid_line[LAT:1] <= {LAT{1'b0}};
        else     valid_line[LAT:1] <= valid_line[LAT-1:0];
    end
    always @(*) valid_line[0] = in_valid;
    assign out_valid = valid_line[LAT];
endmodule
