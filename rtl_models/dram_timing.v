// Single-channel open-row DRAM controller timing for the ISA core (rtl_models/isa_core.v): the
// same bank mechanism as hwsim.memory.kernel.dram_transfer for a 1-channel memory, in Verilog.
//
// A transfer (LOAD or STORE: `rows` rows of `row_bytes` bytes, row i at addr + i*stride) issued
// at cycle t is cut into BURST-byte bursts per row; consecutive bursts in one INTERLEAVE-byte
// chunk share a bank and DRAM row (address map row:column-high:bank:column-low). Per chunk the
// first burst finds its bank
//   open on the row (hit):  column command at ready = max(t, bank_ready);
//   precharged (miss):      ACT at ready, column command TRCD later;
//   open on another row:    PRE at max(ready, last ACT + TRAS), ACT TRP later, column TRCD later;
// later bursts of the chunk at max(t, last column + TCCD). Every column command is also no
// earlier than the channel's last one + TCCD and than (bus free - CAS latency) (CL for reads,
// CWL for writes), and leaves refresh windows [n*TREFI, n*TREFI + TRFC), n >= 1. A burst's data
// occupies the bus BURST_CYCLES after its CAS latency; the transfer ends when its last data has
// moved, plus EXTRA_CYCLES. Bank state (open row, ready, ACT time) and channel state (last
// column command, bus free) persist between transfers, which are served in issue order.
//
// A burst that rows not burst-aligned share is read once, for the first of them (as the model's
// dram_transfer does): later rows move its bytes but take no column command or bus time.
//
// The controller keeps those times as cycle stamps: it walks a transfer one burst per row per
// cycle, from the cycle after the request, and reports (done, done_end) when the walk is over;
// the core completes the instruction at cycle done_end (later than the walk while rows span at
// least a few bursts' worth of bus time; the core flags a walk that ends after its transfer).
// Per burst it also names the byte range to move (mv_*), which the core copies between the
// DRAM array and the scratchpad.
module dram_timing #(
    parameter integer BANKS = 4,
    parameter integer PAGE_BYTES = 1024,
    parameter integer BURST_BYTES = 64,
    parameter integer INTERLEAVE_BYTES = 256,
    parameter integer BURST_CYCLES = 2,
    parameter integer TRCD = 14, parameter integer TRP = 14, parameter integer TRAS = 34,
    parameter integer CL = 14, parameter integer CWL = 4, parameter integer TCCD = 1,
    parameter integer TREFI = 3900, parameter integer TRFC = 260,
    parameter integer EXTRA_CYCLES = 0
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               req_valid,     // taken when ready
    input  wire               req_write,     // STORE
    input  wire [39:0]        req_t,         // issue cycle
    input  wire [47:0]        req_addr,
    input  wire [31:0]        req_sram,
    input  wire [15:0]        req_rows,
    input  wire [23:0]        req_row_bytes,
    input  wire [39:0]        req_dram_stride,
    input  wire [23:0]        req_sram_stride,
    output wire               ready,
    output reg                done,          // one cycle: the walk of a transfer is over
    output reg  [39:0]        done_end,      // the cycle the transfer completes
    output wire               mv_valid,      // move bytes [mv_lo, mv_hi) of DRAM this cycle
    output wire               mv_write,
    output wire [47:0]        mv_lo,
    output wire [47:0]        mv_hi,
    output wire [31:0]        mv_sram        // scratchpad address of byte mv_lo
);
    localparam integer BPC = INTERLEAVE_BYTES / BURST_BYTES;      // bursts per chunk
    localparam integer SLOTS = PAGE_BYTES / INTERLEAVE_BYTES;     // chunks per DRAM row per bank
    localparam signed [41:0] NEVER = -42'sd1000000;

    reg busy, wr;
    reg [39:0] t0;
    reg [47:0] addr0, row_start;
    reg [31:0] sram_row;
    reg [15:0] rows_left;
    reg [23:0] rbytes, sstride;
    reg [39:0] dstride;
    reg [47:0] burst, last;
    reg [47:0] fetched_p1;        // one past the last burst this transfer has read (0: none)
    reg [47:0] row_first_timed;   // the row's first burst not already read for an earlier row
    reg signed [41:0] end_max;

    reg signed [41:0] bank_ready [0:BANKS-1];
    reg signed [41:0] bank_act [0:BANKS-1];
    reg signed [41:0] bank_row [0:BANKS-1];     // -1: precharged
    reg signed [41:0] last_col, bus_free;

    // ---- the current burst ------------------------------------------------------------------
    wire [47:0] chunk = burst / BPC;
    wire [47:0] bank_w = chunk % BANKS;
    wire [31:0] bank = bank_w[31:0];
    wire signed [41:0] drow = $signed({1'b0, chunk / BANKS / SLOTS});
    // A burst an earlier row of this transfer already read (rows not burst-aligned) is read once:
    // its bytes still move, but it takes no column command and no bus time.
    wire dup = (burst < fetched_p1);
    wire first_of_chunk = (burst == row_first_timed) || (burst % BPC == 0);
    wire signed [41:0] t = $signed({2'b0, t0});
    wire signed [41:0] cas = wr ? CWL : CL;

    function signed [41:0] smax(input signed [41:0] a, input signed [41:0] b);
        smax = (a > b) ? a : b;
    endfunction
    function signed [41:0] after_refresh(input signed [41:0] w);
        reg signed [41:0] n;
        begin
            n = w / TREFI;
            after_refresh = (n >= 1 && w - n * TREFI < TRFC) ? n * TREFI + TRFC : w;
        end
    endfunction

    reg signed [41:0] ready_b, act, col0, col;
    reg hit, closed;
    always @(*) begin
        ready_b = smax(t, bank_ready[bank]);
        hit = (bank_row[bank] == drow);
        closed = (bank_row[bank] < 0);
        act = closed ? ready_b : smax(ready_b, bank_act[bank] + TRAS) + TRP;
        if (!first_of_chunk) col0 = smax(t, last_col + TCCD);
        else if (hit) col0 = ready_b;
        else col0 = act + TRCD;
        col = after_refresh(smax(smax(col0, last_col + TCCD), bus_free - cas));
    end

    wire [47:0] b_lo = burst * BURST_BYTES;
    wire [47:0] row_end = row_start + rbytes;
    assign mv_valid = busy;
    assign mv_write = wr;
    assign mv_lo = (b_lo > row_start) ? b_lo : row_start;
    assign mv_hi = (b_lo + BURST_BYTES < row_end) ? b_lo + BURST_BYTES : row_end;
    assign mv_sram = sram_row + (mv_lo - row_start);
    assign ready = !busy;

    integer i;
    wire signed [41:0] bus_next = col + cas + BURST_CYCLES;
    wire [47:0] next_row_start = row_start + ((dstride != 0) ? dstride : rbytes);
    wire [47:0] fetched_after = dup ? fetched_p1 : burst + 1;
    wire [47:0] next_row_first = next_row_start / BURST_BYTES;
    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
            last_col <= NEVER;
            bus_free <= NEVER;
            for (i = 0; i < BANKS; i = i + 1) begin
                bank_ready[i] <= NEVER;
                bank_act[i] <= NEVER;
                bank_row[i] <= -42'sd1;
            end
        end else if (!busy) begin
            if (req_valid) begin
                busy <= 1'b1;
                wr <= req_write;
                t0 <= req_t;
                addr0 <= req_addr;
                row_start <= req_addr;
                sram_row <= req_sram;
                rows_left <= req_rows;
                rbytes <= req_row_bytes;
                dstride <= req_dram_stride;
                sstride <= req_sram_stride;
                burst <= req_addr / BURST_BYTES;
                last <= (req_addr + req_row_bytes - 1) / BURST_BYTES;
                fetched_p1 <= 48'd0;
                row_first_timed <= req_addr / BURST_BYTES;
                end_max <= $signed({2'b0, req_t});
            end
        end else begin
            // one burst: its column command at `col` (none for a burst already read)
            if (!dup) begin
                if (first_of_chunk && !hit) bank_act[bank] <= act;
                bank_row[bank] <= drow;
                bank_ready[bank] <= col + TCCD;
                last_col <= col;
                bus_free <= bus_next;
                fetched_p1 <= burst + 1;
            end
            if (burst != last) begin
                burst <= burst + 1;
                if (!dup) end_max <= smax(end_max, bus_next);
            end else if (rows_left > 16'd1) begin
                rows_left <= rows_left - 16'd1;
                row_start <= next_row_start;
                sram_row <= sram_row + ((sstride != 0) ? {8'd0, sstride} : {8'd0, rbytes});
                burst <= next_row_first;
                last <= (next_row_start + rbytes - 1) / BURST_BYTES;
                row_first_timed <= (next_row_first > fetched_after) ? next_row_first : fetched_after;
                if (!dup) end_max <= smax(end_max, bus_next);
            end else begin
                busy <= 1'b0;
                done <= 1'b1;
                done_end <= (dup ? end_max : smax(end_max, bus_next)) + EXTRA_CYCLES;
            end
        end
    end
endmodule
