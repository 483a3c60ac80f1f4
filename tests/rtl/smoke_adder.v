// Toolchain smoke test: 8-bit registered adder (sum valid after the next rising edge).
`timescale 1ns / 1ps
module smoke_adder (
    input  wire       clk,
    input  wire [7:0] a,
    input  wire [7:0] b,
    output reg  [7:0] sum
);
    initial sum = 8'd0;
    always @(posedge clk) sum <= a + b;
endmodule
