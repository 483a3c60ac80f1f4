// Vector unit slice, REQUANT: LANES lanes of the exact fixed-point requantization of
// compiler.reference.intmath.requantize (bits = 8), the RTL of hwsim.unit_models.vector_cycles.
//
//   p = acc * mult                      (acc int32, mult in [0, 2^31): |p| < 2^62)
//   r = sign(p) * ((|p| + 2^(shift-1)) >> shift)   (shift in [0, 62]; no rounding term at 0)
//   out = saturate(r, int8)             (round half away from zero, then clip to [-128, 127])
//
// Two register stages (multiply; round + shift + saturate), one beat of LANES elements per
// cycle: a pass of E elements takes ceil(E / LANES) beats and, counted inclusively from the
// first sampled beat to the last registered result, ceil(E / LANES) + 1 cycles
// == vector_cycles(E, 1, LANES, 1).
module vector_requant #(
    parameter integer LANES = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [LANES*32-1:0]  acc,    // lane l at [l*32 +: 32], signed
    input  wire [LANES*32-1:0]  mult,   // lane l at [l*32 +: 32], in [0, 2^31)
    input  wire [LANES*6-1:0]   shift,  // lane l at [l*6 +: 6], in [0, 62]
    output wire                 out_valid,
    output wire [LANES*8-1:0]   out     // lane l at [l*8 +: 8], signed
);
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            // ---- stage 1: exact 32 x 31-bit product ----------------------------------------
            wire signed [31:0] a = acc[l*32 +: 32];
            wire signed [32:0] mu = {1'b0, mult[l*32 +: 32]};
            reg signed [63:0] p_q;
            reg [5:0] sh_q;
            always @(posedge clk) begin
                p_q <= a * mu;
                sh_q <= shift[l*6 +: 6];
            end
            // ---- stage 2: round half away from zero, shift, saturate -----------------------
            wire neg = p_q[63];
            wire [63:0] mag = neg ? -p_q : p_q;
            wire [63:0] half = (sh_q == 6'd0) ? 64'd0 : (64'd1 << (sh_q - 6'd1));
            wire [63:0] q = (mag + half) >> sh_q;
            // |p| < 2^62, so q < 2^62: saturation compares the magnitude against 127 / 128
            wire [7:0] sat = neg ? ((q >= 64'd128) ? 8'h80 : (~q[7:0] + 8'd1))
                                 : ((q >= 64'd127) ? 8'h7f : q[7:0]);
            reg [7:0] out_q;
            always @(posedge clk) out_q <= sat;
            assign out[l*8 +: 8] = out_q;
        end
    endgenerate

    reg [1:0] valid_q;
    always @(posedge clk) begin
        if (rst) valid_q <= 2'b00;
        else     valid_q <= {valid_q[0], in_valid};
    end
    assign out_valid = valid_q[1];
endmodule
