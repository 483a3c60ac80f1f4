"""Cross-channel loads: activations fetched across an HBM switch, timed in closed form.

FlightLLM's memory system attaches each on-chip buffer to its own HBM pseudo-channels. A
decode GEMV streams its weights into the A buffer from the core's own 8 channels, but reads its
activation vector into the B buffer through the HBM switch from wherever the previous operator
stored it. The authors' profiler (FlightLLM/flightllm_test_demo, profile/inst_gen/
inst_profiler.py `time_LD`) times such a load as `bytes / (one channel's bandwidth x
HBM_BW_CROSS_CHANNEL_EFFICIENCY)` (0.35, profile/config.yaml) with `parallel_channel_num` 1,
and marks exactly the activation-sequence loads of the MV layers cross-channel
(layer_support/IR_linear_mv.py and IR_attention_mv.py, `LD_seq_in_inst`). Stores are never
cross-channel there (isa.py `generate_ST_inst`, `ST_cross_hbm_channel` defaults to False and no
layer sets it), so only LD rows are affected.

The compiler lists the off-chip byte ranges that hold such activations in the program metadata
(`cross_channel_ranges`: [address, bytes] pairs, compiler/passes/allocate.py). An LD row whose
off-chip start address lies in one of them, on a main memory with
`cross_channel_efficiency_fraction`, is served here instead of by the bank model: service =
rows x row_bytes / (channel_bandwidth_bytes_per_s x cross_channel_efficiency_fraction) +
latency_s. The latency term is ours: the artifact's profiler charges no latency to any
transfer, but every bank-model transfer here pays its row activation and CAS latency (the
preset's latency_s, tRCD + CL), and without it a small cross-channel load would finish before
the same load through the bank model. The LD queue is in order, so one such transfer runs at a
time, as on the artifact's one channel.
"""
from __future__ import annotations

import numpy as np

from isa import Queue


def cross_channel_rows(program, arrays, target) -> np.ndarray:
    """Bool per row: an LD whose off-chip start address lies in a `cross_channel_ranges`
    entry of the program metadata, on a target whose main memory sets
    `cross_channel_efficiency_fraction` (else every entry is False)."""
    rows = np.zeros(len(arrays), np.bool_)
    memory = target.memories[target.main_memory]
    ranges = program.metadata.get("cross_channel_ranges", [])
    if memory.cross_channel_efficiency_fraction is None or not ranges:
        return rows
    addr = arrays.fields["dram_addr"]
    is_load = arrays.queue == int(Queue.LD)
    for start_bytes, size_bytes in ranges:
        rows |= is_load & (addr >= start_bytes) & (addr < start_bytes + size_bytes)
    return rows


def cross_channel_service_s(arrays, rows: np.ndarray, target) -> np.ndarray:
    """Seconds per row for the rows in `rows` (0 elsewhere): bytes moved over one channel's
    bandwidth times the cross-channel efficiency, plus the memory's access latency once."""
    memory = target.memories[target.main_memory]
    moved_bytes = arrays.fields["rows"] * arrays.fields["row_bytes"]
    rate_bytes_per_s = (memory.channel_bandwidth_bytes_per_s
                        * (memory.cross_channel_efficiency_fraction or 1.0))
    return np.where(rows, moved_bytes / rate_bytes_per_s + memory.latency_s, 0.0)
