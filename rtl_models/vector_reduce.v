// Vector unit slice, row-wise MAX and SUM reductions (VMAX / VSUM): LANES lanes, one pass, the
// RTL of hwsim.unit_models.vector_cycles(rows * cols, 1, LANES, 1).
//
// A reduction of a rows x cols int32 tile streams its elements flat (row-major), LANES per beat,
// as the model charges them (rows * cols elements through the lanes, not one padded beat run per
// row): a beat may end one row and start the next, or hold several short rows. Each lane knows
// its column from a running position (reset by `first`), so the lane combine is a segmented
// reduction: lane j starts a new partial at column 0, else combines with lane j-1's partial
// (lane 0 with the partial carried over from the previous beat). The lane holding a row's last
// column presents that row's result, flagged in out_mask.
//
// Numerics: max is the int32 maximum; sum is the exact sum (64-bit partials, exact for rows of
// up to 2^32 elements) saturated once to int32, i.e. clip(sum(int64), INT32_MIN, INT32_MAX) as
// isa.intmath.saturate_int32: it saturates, never wraps, and an intermediate excursion past the
// int32 range that comes back (e.g. MAX + MAX - MAX - MAX) gives the exact result.
//
// Two register stages (operand register; segmented reduce + carry + result register): a pass of
// E = rows * cols elements takes B = ceil(E / LANES) beats and, counted inclusively from the
// first sampled beat to the last registered result, B + 1 cycles == vector_cycles(E, 1, LANES, 1).
// out_valid is high in a result beat that ends at least one row.
module vector_reduce #(
    parameter integer LANES = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire                 first,   // first beat of a reduction: column position := 0
    input  wire                 op,      // 0: max, 1: sum
    input  wire [15:0]          cols,    // row length (elements)
    input  wire [15:0]          count,   // valid lanes in this beat (LANES except the last)
    input  wire [LANES*32-1:0]  x,       // lane l at [l*32 +: 32], signed
    output reg                  out_valid,
    output reg  [LANES*32-1:0]  out,     // lane l at [l*32 +: 32]: result of the row ending there
    output reg  [LANES-1:0]     out_mask // lane l ends a row
);
    integer j;

    // ---- stage 1: operand register ------------------------------------------------------------
    reg v1, first1, op1;
    reg [15:0] cols1, count1;
    reg [LANES*32-1:0] x1;
    always @(posedge clk) begin
        if (rst) v1 <= 1'b0;
        else     v1 <= in_valid;
        first1 <= first;
        op1 <= op;
        cols1 <= cols;
        count1 <= count;
        x1 <= x;
    end

    // ---- stage 2: segmented lane reduction, carry, result -------------------------------------
    reg [15:0] colpos;                 // column of the next beat's lane 0
    reg signed [63:0] carry;           // partial of the row continuing into the next beat
    reg [15:0] cl [0:LANES];           // column of lane j (cl[LANES]: next beat's lane 0)
    reg signed [63:0] part [0:LANES-1];
    reg signed [63:0] prev, xj;
    reg [LANES-1:0] ends;
    reg signed [63:0] carry_next;
    always @(*) begin
        cl[0] = first1 ? 16'd0 : colpos;
        prev = carry;
        carry_next = carry;
        for (j = 0; j < LANES; j = j + 1) begin
            xj = $signed(x1[j*32 +: 32]);
            if (cl[j] == 16'd0) part[j] = xj;
            else if (op1) part[j] = prev + xj;
            else part[j] = (xj > prev) ? xj : prev;
            ends[j] = (j < count1) && (cl[j] == cols1 - 16'd1);
            cl[j+1] = (cl[j] == cols1 - 16'd1) ? 16'd0 : cl[j] + 16'd1;
            if (j < count1) carry_next = part[j];
            prev = part[j];
        end
    end
    reg [15:0] colpos_next;
    always @(*) begin
        colpos_next = cl[0];
        for (j = 1; j <= LANES; j = j + 1)
            if (j <= count1) colpos_next = cl[j];
    end

    function [31:0] sat32;
        input signed [63:0] v;
        sat32 = (v > 64'sd2147483647) ? 32'h7fffffff :
                (v < -64'sd2147483648) ? 32'h80000000 : v[31:0];
    endfunction

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            colpos <= 16'd0;
            carry <= 64'sd0;
        end else begin
            out_valid <= v1 && (ends != {LANES{1'b0}});
            if (v1) begin
                colpos <= colpos_next;
                carry <= carry_next;
                out_mask <= ends;
                for (j = 0; j < LANES; j = j + 1)
                    out[j*32 +: 32] <= ends[j] ? sat32(part[j]) : 32'd0;
            end
        end
    end
endmodule
