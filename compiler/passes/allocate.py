"""Allocate: lay out off-chip memory (weights, KV cache, spilled activations) and decide which
activations stay on chip between ops.

Off-chip: weights in program order, then per layer a K and a V cache region (one latent region
for MLA), head-major [batch][kv_head][position][head_dim], then spilled activations and logits.
A model that does not fit the target's main memory is refused with one line.
On chip: first-fit over the resident region with liveness (a tensor is freed after its last
reader), walked in schedule order (passes/schedule.py), the order code generation emits ops in:
liveness in any other order lets a tensor emitted early (a parallel block's MLP input, emitted
beside Q/K/V) land on bytes a later-emitted reader still needs. Outputs that do not fit, results nobody reads on chip (the logits), and every
activation when an FPGA target has always_on_chip_decode off, go to off-chip memory.
On a main memory with `cross_channel_efficiency_fraction` (FlightLLM's HBM switch), the
off-chip ranges of spilled activations read only by GEMV (MV-queue) ops are listed in the
graph meta `cross_channel_ranges` ([address, bytes] pairs, only when there are any): the
artifact loads a MV layer's input sequence across channels (hwsim.timing.cross_channel).
"""
from __future__ import annotations

from compiler.buffer_plan import plan_buffers
from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.passes.schedule import scheduled

PAGE_BYTES = 4096


def run(graph: Graph, target) -> Graph:
    dram = _Bump()
    attrs: dict[str, dict] = {op.name: {} for op in graph.ops()}
    homes = {}
    for op in graph.ops():  # weights, in program order
        if op.weight is not None and not op.attr("tied"):
            homes[op.name] = dram.take(_stored_bytes(op))
    embed = homes.get("embed")
    weight_bytes = dram.top
    for op in graph.ops():
        if op.weight is not None:
            attrs[op.name]["weight_addr"] = embed if op.attr("tied") else homes[op.name]
        if op.kind == OpKind.KV_WRITE:
            attrs[op.name].update(_kv_regions(op, graph, dram))
    kv_bytes = dram.top - weight_bytes
    _propagate_kv(graph, attrs)
    _place_activations(graph, target, attrs, dram)
    resident_peak = attrs.pop("__peak__")
    capacity = target.memories[target.main_memory].capacity_bytes
    if dram.top > capacity:
        raise CompilerError(
            f"{graph.model.name} does not fit {target.name}: it needs {dram.top / 1e9:.2f} GB "
            f"(weights {weight_bytes / 1e9:.2f} GB at {graph.workload.quant}, KV cache "
            f"{kv_bytes / 1e9:.2f} GB, activations {(dram.top - weight_bytes - kv_bytes) / 1e9:.2f}"
            f" GB) but {target.main_memory} holds {capacity / 1e9:.2f} GB")
    out = graph.with_ops({name: graph.op(name).with_attrs(**a) for name, a in attrs.items()})
    cross = _cross_channel_ranges(graph, target, attrs)
    return out.with_meta(dram_bytes=dram.top, weight_bytes=weight_bytes, kv_bytes=kv_bytes,
                         resident_peak_bytes=resident_peak,
                         **({"cross_channel_ranges": cross} if cross else {}))


def _stored_bytes(op) -> int:
    sparsity = op.attr("sparsity")
    kept = sparsity[0] / sparsity[1] if sparsity else 1.0
    return -(-int(op.weight.elements * kept * op.weight.bits) // 8)


def weight_tile_address(op, matrix: int, n0: int, k0: int, tn: int, tk: int) -> tuple[int, int]:
    """(address, bytes) of a weight tile. Matrix weights are stored tile-major, as FlightLLM lays
    weights out per channel: column blocks of the tile width one after another, each block's K
    tiles contiguous inside it, so every tile streams as one contiguous transfer (no padding)."""
    sparsity = op.attr("sparsity")
    kept = sparsity[0] / sparsity[1] if sparsity else 1.0
    bits = op.weight.bits * kept
    k, n = op.weight.shape[-2], op.weight.shape[-1]
    elements_before = matrix * k * n + n0 * k + k0 * tn
    return op.attr("weight_addr") + int(elements_before * bits) // 8, -(-int(tk * tn * bits) // 8)


def _kv_regions(op, graph: Graph, dram) -> dict:
    w = graph.workload
    total = max(w.step_context + w.step_tokens, w.kv_capacity or 0)
    row = op.attr("head_dim") * op.output.bits // 8
    per_region = w.batch * op.attr("kv_heads") * total * row
    k_addr = dram.take(per_region)
    v_addr = k_addr if graph.model.mla is not None else dram.take(per_region)
    return {"k_addr": k_addr, "v_addr": v_addr, "max_len": total, "row_bytes": row}


def _propagate_kv(graph: Graph, attrs) -> None:
    """Attention ops read the cache regions their layer's KV_WRITE laid out."""
    for op in graph.ops():
        if op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            write = attrs[f"L{op.layer}.kv_write"]
            key = "k_addr" if op.kind == OpKind.ATTN_SCORE else "v_addr"
            attrs[op.name].update(kv_addr=write[key], max_len=write["max_len"],
                                  kv_row_bytes=write["row_bytes"])


def _place_activations(graph: Graph, target, attrs, dram) -> None:
    plan = plan_buffers(target)
    region = plan.resident
    mech = getattr(target, "mechanisms", None)
    on_chip = getattr(mech, "always_on_chip_decode", True)
    ops = scheduled(graph)
    index = {op.name: i for i, op in enumerate(ops)}
    last_use = {op.name: max((index[s] for s in graph.nx.successors(op.name)), default=index[op.name])
                for op in ops}
    live: list[tuple[int, int, str]] = []  # (offset, size, name)
    peak = 0
    for i, op in enumerate(ops):
        live = [x for x in live if last_use[x[2]] >= i]
        peak = max(peak, max((o + s for o, s, _ in live), default=0))
        if op.kind == OpKind.KV_WRITE:
            continue
        if op.attr("fused_attention") or (op.attr("fused_into") and op.kind == OpKind.SOFTMAX):
            attrs[op.name]["home"] = ("fused", op.attr("fused_into") or op.name)
            continue  # scores and probabilities never leave the fused kernel's tiles
        size = -(-op.output.nbytes // 64) * 64
        is_result = graph.nx.out_degree(op.name) == 0  # logits, a kernel's output
        offset = _first_fit(live, size, region.size_bytes) \
            if on_chip and not is_result else None
        if offset is None:
            attrs[op.name]["home"] = ("dram", dram.take(op.output.nbytes))
        else:
            live.append((offset, size, op.name))
            live.sort()
            attrs[op.name]["home"] = ("onchip", region.buffer_id, region.offset + offset)
            peak = max(peak, offset + size)
    attrs["__peak__"] = peak


def _cross_channel_ranges(graph: Graph, target, attrs) -> list[list[int]]:
    """[address, bytes] of every spilled activation whose readers all run on the MV queue,
    in program order; empty unless the main memory sets cross_channel_efficiency_fraction."""
    memory = target.memories[target.main_memory]
    if getattr(memory, "cross_channel_efficiency_fraction", None) is None:
        return []
    ranges = []
    for op in graph.ops():
        home = attrs[op.name].get("home")
        readers = list(graph.nx.successors(op.name))
        if home and home[0] == "dram" and readers and \
                all(graph.op(r).attr("queue") == "MV" for r in readers):
            ranges.append([home[1], op.output.nbytes])
    return ranges


def _first_fit(live, size: int, capacity: int):
    cursor = 0
    for offset, used, _ in live:
        if offset - cursor >= size:
            return cursor
        cursor = max(cursor, offset + used)
    return cursor if capacity - cursor >= size else None


class _Bump:
    def __init__(self) -> None:
        self.top = 0

    def take(self, size: int) -> int:
        addr = self.top
        self.top += -(-size // PAGE_BYTES) * PAGE_BYTES
        return addr
