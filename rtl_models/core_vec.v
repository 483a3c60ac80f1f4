// The ISA core's vector sequencer: streams one REQUANT (int32 -> int8, vector_requant.v) or
// VEXP (int8 -> int16 Q15, vector_exp.v) over E = rows * cols * count contiguous elements,
// LANES per beat from the issue cycle on; the instruction ends in the cycle its last result
// appears: ceil(E / LANES) + 1 cycles == hwsim.unit_models.vector_cycles(E, 1, LANES, 1).
module core_vec #(
    parameter integer LANES = 4,
    parameter integer WIN = 64          // scratchpad window width (bytes), >= 4 * LANES
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              issue,
    input  wire              i_exp,         // 1 = VEXP, 0 = REQUANT
    input  wire [31:0]       i_elements,
    input  wire [31:0]       i_src, i_dst, i_imm,
    input  wire [7:0]        i_shift,
    output reg               busy,
    output wire              finishing,
    output wire [31:0]       rd_addr,
    input  wire [WIN*8-1:0]  rd_data,
    output wire              wr_en,
    output wire [31:0]       wr_addr,
    output reg  [WIN*8-1:0]  wr_data,
    output reg  [WIN-1:0]    wr_mask
);
    reg f_exp;
    reg [31:0] f_e, f_src, f_dst, f_imm, bi, ob;
    reg [7:0] f_shift;
    wire [31:0] beats = (f_e + LANES - 1) / LANES;
    wire rq_valid, ex_valid;
    wire [LANES*8-1:0] rq_out;
    wire [LANES*16-1:0] ex_out;
    wire out_valid = f_exp ? ex_valid : rq_valid;
    assign finishing = busy && out_valid && (ob == beats - 1);

    // ---- the beat of this cycle --------------------------------------------------------------
    wire e_exp = issue ? i_exp : f_exp;
    wire [31:0] e_e = issue ? i_elements : f_e;
    wire [31:0] e_bi = issue ? 32'd0 : bi;
    wire [31:0] e_imm = issue ? i_imm : f_imm;
    wire [7:0] e_shift = issue ? i_shift : f_shift;
    wire active = issue || (busy && bi < beats);
    assign rd_addr = (issue ? i_src : f_src) + e_bi * LANES * (e_exp ? 1 : 4);
    reg [LANES*32-1:0] acc, mult;
    reg [LANES*6-1:0] sh;
    reg [LANES*8-1:0] q;
    integer l;
    always @(*) begin
        for (l = 0; l < LANES; l = l + 1) begin
            acc[l*32 +: 32] = (e_bi * LANES + l < e_e) ? rd_data[l*32 +: 32] : 32'd0;
            q[l*8 +: 8] = (e_bi * LANES + l < e_e) ? rd_data[l*8 +: 8] : 8'd0;
            mult[l*32 +: 32] = e_imm;
            sh[l*6 +: 6] = e_shift[5:0];
        end
    end
    vector_requant #(.LANES(LANES)) requant (
        .clk(clk), .rst(rst), .in_valid(active && !e_exp), .acc(acc), .mult(mult), .shift(sh),
        .out_valid(rq_valid), .out(rq_out));
    vector_exp #(.LANES(LANES)) exp_unit (
        .clk(clk), .rst(rst), .in_valid(active && e_exp), .q(q), .imm(e_imm[23:0]),
        .shift(e_shift[4:0]), .out_valid(ex_valid), .out(ex_out));

    // ---- results ------------------------------------------------------------------------------
    assign wr_en = busy && out_valid;
    assign wr_addr = f_dst + ob * LANES * (f_exp ? 2 : 1);
    always @(*) begin
        wr_data = {WIN*8{1'b0}};
        wr_mask = {WIN{1'b0}};
        for (l = 0; l < LANES; l = l + 1) begin
            if (f_exp) begin
                wr_data[l*16 +: 16] = ex_out[l*16 +: 16];
                if (ob * LANES + l < f_e) wr_mask[l*2 +: 2] = 2'b11;
            end else begin
                wr_data[l*8 +: 8] = rq_out[l*8 +: 8];
                if (ob * LANES + l < f_e) wr_mask[l] = 1'b1;
            end
        end
    end

    always @(posedge clk) begin
        if (rst) busy <= 1'b0;
        else begin
            if (issue) begin
                busy <= 1'b1;
                {f_exp, f_e, f_src, f_dst, f_imm, f_shift} <=
                    {i_exp, i_elements, i_src, i_dst, i_imm, i_shift};
                bi <= 32'd1;
                ob <= 32'd0;
            end else begin
                if (finishing) busy <= 1'b0;
                if (active) bi <= bi + 32'd1;
                if (busy && out_valid) ob <= ob + 32'd1;
            end
        end
    end
endmodule
