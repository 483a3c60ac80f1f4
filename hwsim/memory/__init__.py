"""Off-chip memory timing: the banked DRAM model the timing engine calls for every LD and ST.

Address mapping (row:column-high:bank:channel:column-low, DRAMsim3 "rorabgbachco" style):
consecutive `channel_interleave_bytes` chunks go to consecutive channels; each round over the
channels moves to the next bank; each round over the banks fills the next chunk-sized slot of the
same DRAM row (`row_bytes`); only then does the row number grow. A stream therefore spreads over
every channel at once and comes back to each open row `row_bytes / channel_interleave_bytes` times.

A transfer (LD or ST) is `rows` rows of `row_bytes` bytes from `addr`, rows `stride` bytes apart
(0 = contiguous), cut into the `burst_bytes`-aligned bursts it touches. Bursts are served in
address order: in order per channel, channels in parallel, all issued at the transfer's start.
Per burst, with the target's timing table (JEDEC cycles x tCK):

- bank: open row -> hit (column at once); precharged -> miss (ACT, then tRCD); another row open
  -> conflict (PRE no earlier than ACT + tRAS, tRP, ACT, tRCD); the bank takes its next command
  tCCD_S after a column. Open-page policy leaves rows open. Closed-page policy (as DRAMsim3's,
  which precharges when no queued request wants the row) keeps a row open for the rest of the
  transfer that opened it and precharges it after that transfer's last burst there: a later
  transfer finds the bank precharged (a miss) and waits for max(ready, ACT + tRAS) + tRP.
- channel: column commands in order, tCCD_S apart (the schema has no bank groups; a stream is
  assumed to alternate them, as controllers map bank-group bits low, so tCCD_L is not charged);
  a column issues no earlier than CAS latency (CL, or CWL for a write) before the data bus is
  free, and its data then holds the bus for burst_bytes / (bandwidth_bytes_per_s / channels).
- refresh: all-bank refresh blocks the channel's column commands in [n tREFI, n tREFI + tRFC),
  n >= 1, on an absolute clock from time 0; a column that would fall inside waits for its end.
  (PRE and ACT go out as early as the bank allows, as controllers open rows ahead; only the
  column command is checked against refresh.)
- the transfer ends when its last burst's data has arrived, plus, once, the part of `latency_s`
  the timing table does not already pay (latency_s - (tRCD + CL) tCK, at least 0: every preset
  derives latency_s as tRCD + CL, so with a timing table this is 0 today).

Without a timing table (the GPU presets) a burst only holds its channel's bus, and the transfer
ends at its last burst plus `latency_s`: bytes / bandwidth of the channels it touches + latency.

Not modelled: bank groups (tCCD_L), tFAW/tRRD, read-write turnaround, tRTP/tWR, refresh closing
open rows, requests reordered across transfers (FR-FCFS). docs/memory.md has the derivations
and the figures.

Entry points: `DramModel(memory)` (`transfer`, `stats`, `reset`) and, for compiled timing loops,
`dram_transfer(params, bank_state, chan_state, stats, start_s, addr, rows, row_bytes, stride,
write)` over the arrays `DramModel.arrays()` returns (layouts in `hwsim.memory.kernel`).
"""
from hwsim.memory.dram import DramModel, DramStats
from hwsim.memory.kernel import dram_locate, dram_params, dram_transfer, reset_state

__all__ = ["DramModel", "DramStats", "dram_locate", "dram_params", "dram_transfer", "reset_state"]
