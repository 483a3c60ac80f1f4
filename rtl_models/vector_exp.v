// Vector unit slice, VEXP: LANES lanes of the integer exponential isa.intmath.exp_q15, the RTL
// of hwsim.unit_models.vector_cycles with VECTOR_PASSES[VEXP] = 1 pass.
//
//   u   = max(-q, 0) * imm                   (q int8, imm in [0, 2^24): u < 2^31)
//   z   = u >> shift;  f = u mod 2^shift     (shift in [0, 31])
//   phi = shift >= 15 ? f >> (shift - 15) : f << (15 - shift)        (Q15)
//   sq  = (phi * phi) >> 15
//   p   = (C0 * 2^15 + C1 * phi + C2 * sq + 2^14) >> 15               (Q15 of 2^-phi)
//   out = z == 0 ? p : z > 16 ? 0 : (p + 2^(z-1)) >> z                (int16, Q15)
//   (C0, C1, C2) = (32727, -21939, 5636) = isa.intmath.EXP_C0..C2
//
// Two register stages (stage 1: product, split, phi and its square; stage 2: polynomial and
// the 2^-z shift with rounding), one beat of LANES elements per cycle: a pass of E elements takes
// ceil(E / LANES) + 1 cycles, first sampled beat to last registered result
// == vector_cycles(E, 1, LANES, 1).
module vector_exp #(
    parameter integer LANES = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [LANES*8-1:0]   q,      // lane l at [l*8 +: 8], signed int8
    input  wire [23:0]          imm,    // shared by the lanes of a beat
    input  wire [4:0]           shift,
    output wire                 out_valid,
    output wire [LANES*16-1:0]  out     // lane l at [l*16 +: 16], int16 Q15
);
    localparam signed [31:0] C0 = 32727, C1 = -21939, C2 = 5636;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            // ---- stage 1 ------------------------------------------------------------------
            wire signed [7:0] qs = q[l*8 +: 8];
            wire [7:0] mag = qs[7] ? (~q[l*8 +: 8] + 8'd1) : 8'd0;   // max(-q, 0), up to 128
            wire [31:0] u = {24'd0, mag} * {8'd0, imm};
            wire [31:0] z = u >> shift;
            wire [31:0] f = u & ((32'd1 << shift) - 32'd1);
            wire [31:0] phi = (shift >= 5'd15) ? (f >> (shift - 5'd15)) : (f << (5'd15 - shift));
            wire [31:0] sq = (phi * phi) >> 15;
            reg [15:0] phi_q, sq_q;
            reg [4:0] z_q;                    // min(z, 17)
            always @(posedge clk) begin
                phi_q <= phi[15:0];
                sq_q <= sq[15:0];
                z_q <= (z > 32'd17) ? 5'd17 : z[4:0];
            end
            // ---- stage 2 ------------------------------------------------------------------
            wire signed [47:0] acc = C0 * 48'sd32768 + C1 * $signed({1'b0, phi_q})
                                   + C2 * $signed({1'b0, sq_q}) + 48'sd16384;
            wire [31:0] p = acc[46:15];       // acc > 0: 2^-phi >= 1/2
            wire [31:0] half = (z_q == 5'd0) ? 32'd0 : (32'd1 << (z_q - 5'd1));
            wire [31:0] y = (z_q > 5'd16) ? 32'd0 : ((p + half) >> z_q);
            reg [15:0] out_q;
            always @(posedge clk) out_q <= y[15:0];
            assign out[l*16 +: 16] = out_q;
        end
    endgenerate

    reg [1:0] valid_q;
    always @(posedge clk) begin
        if (rst) valid_q <= 2'b00;
        else     valid_q <= {valid_q[0], in_valid};
    end
    assign out_valid = valid_q[1];
endmodule
