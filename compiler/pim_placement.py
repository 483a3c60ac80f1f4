"""Request-to-channel placement of a decode batch's KV caches on HBM-PIM channels.

In Newton-style PIM and in NeuPIMs each request's KV cache lives in ONE PIM channel and its
attention GEMVs run on that channel's banks: casys-kaist/NeuPIMs src/scheduler/Scheduler.cc
(allocate_pim_tile picks a channel `ch` per request; allocate_requests puts the request's K and
V PIMTensors on `ch` and queues it in `_active_request_queues[ch]`). The channels work on
different requests at once, so a layer's attention lasts as long as its busiest channel.

Placement policy, the mechanism `channel_load_balancing` (the artifact's `ch_load_balancing`):
- off, round robin (Newton; the naive NPU+PIM baseline): request i goes to channel i mod C in
  batch order (Scheduler.cc: "newton: round-robin channel allocate", `_next_ch++`);
- on, least loaded (NeuPIMs): requests sorted by length, longest first, each to the channel
  with the least work so far (SETUPS.md section 2; Scheduler.cc: the greedy "most lazy channel",
  min accumulated MHA latency). The work of a request is its cached length + 1 (its GEMVs are
  affine in it).
Sub-batches (NeuPIMs section 5; Scheduler.cc group_sub_batches with the simple partition): each
channel's requests split in half, the first half to sub-batch 0; an odd channel gives its extra
request alternately to sub-batch 0 and 1.

The compiler records where each request's cache lies (`channel_map`, program metadata
"pim_channels": per KV region its base address, bytes per request and the request's channel);
the simulator runs a PIM GEMV on the channel that holds its operand (hwsim.timing.pim_channels).
"""
from __future__ import annotations

from compiler.ir.ops import OpKind


def applies(target, workload) -> bool:
    """Channel-local KV caches: a PIM target with pim_attention and pim_channel_placement on,
    running a decode step."""
    mech = getattr(target, "mechanisms", None)
    pim = [u for u in target.units.values() if u.kind == "pim"]
    return bool(pim) and workload.phase == "decode" \
        and bool(getattr(mech, "pim_attention", False)) \
        and bool(getattr(mech, "pim_channel_placement", False))


def output_slots(target, workload) -> int:
    """Output slots for channel-local PIM GEMVs (compiler.buffer_plan "pim_output"): two per
    channel, so every channel has a GEMV running and the next one issued while the vector unit
    drains the results; 0 (the plain ping-pong output slots) without placement."""
    if not applies(target, workload):
        return 0
    pim = next(u for u in target.units.values() if u.kind == "pim")
    return 2 * target.memories[pim.memory].channels


def interleaved(requests: list[int], channel_of: list[int], channels: int) -> list[int]:
    """`requests` reordered to visit the channels in turn (the first request of each channel in
    channel order, then the second, ...): the in-order PIM queue then feeds every channel, as
    the artifact's per-channel request queues do (Scheduler.cc _active_request_queues)."""
    queues = [[i for i in requests if channel_of[i] == ch] for ch in range(channels)]
    return [q[k] for k in range(max(map(len, queues), default=0)) for q in queues if k < len(q)]


def channels_of(lengths, channels: int, balanced: bool) -> list[int]:
    """The channel of each request: round robin in batch order, or (balanced) longest first to
    the least-loaded channel (ties: the lowest channel)."""
    if not balanced:
        return [i % channels for i in range(len(lengths))]
    load = [0] * channels
    out = [0] * len(lengths)
    for i in sorted(range(len(lengths)), key=lambda r: (-lengths[r], r)):
        ch = min(range(channels), key=lambda c: (load[c], c))
        out[i] = ch
        load[ch] += lengths[i] + 1
    return out


def split_by_channel(channel_of: list[int], channels: int) -> tuple[list[int], list[int]]:
    """Request indices of sub-batch 0 and 1: half of each channel's requests each."""
    first, second, ceil_turn = [], [], True
    for ch in range(channels):
        queue = [i for i, c in enumerate(channel_of) if c == ch]
        half = len(queue) // 2
        if len(queue) % 2:
            half += int(ceil_turn)
            ceil_turn = not ceil_turn
        first += queue[:half]
        second += queue[half:]
    return first, second


def channel_map(graph, channel_of: list[int], dram_shift: int = 0) -> list[list]:
    """[[base address, bytes per request, [channel of each request]], ...], one entry per KV
    region (K and V of each layer) of `graph`; `dram_shift` relocates the regions (the second
    sub-batch's cache, compiler.sub_batch)."""
    out, seen = [], set()
    for op in graph.ops():
        if op.kind not in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            continue
        base = op.attr("kv_addr")
        if base is None or base in seen:
            continue
        seen.add(base)
        per_request = op.attr("kv_heads") * op.attr("max_len") * op.attr("kv_row_bytes")
        out.append([base + dram_shift, per_request, list(channel_of)])
    return out


def metadata(target, regions: list[list]) -> dict:
    """The program metadata entry "pim_channels" (regions sorted by base address)."""
    pim = next(u for u in target.units.values() if u.kind == "pim")
    mem = target.memories[pim.memory]
    return {"channels": mem.channels, "regions": sorted(regions)}
