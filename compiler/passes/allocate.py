"""Allocate: lay out off-chip memory (weights, KV cache, spilled activations, workspace) and
decide which activations stay on chip between ops.

Off-chip: weights in program order, then per layer a K and a V cache region (one latent region
for MLA), head-major [batch][kv_head][position][head_dim], then the spilled-activation pool,
then the workspace (the results nobody reads on chip: the logits the sampler reads). The pool
is reused by liveness exactly as the on-chip region is (compiler/liveness.py, one allocator for
both): a spilled tensor's bytes are free again after its last reader, so the pool is the peak
of the live spilled bytes, not their sum (a whole-program range per tensor made batch-384
prefill of LLaMA2-7B "need" 687 GB). A step that does not fit the target's main memory is
refused with one line naming the bytes by kind (compiler/memory_use.py).
On chip: first-fit over the resident region with liveness (a tensor is freed after its last
reader). Outputs that do not fit, and every activation when an FPGA target has
always_on_chip_decode off, go to the off-chip pool. Both pools are walked in schedule order
(passes/schedule.py), the order code generation emits ops in: liveness in any other order lets
a tensor emitted early (a parallel block's MLP input, emitted beside Q/K/V) land on bytes a
later-emitted reader still needs.
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
from compiler.liveness import FirstFitPool, last_uses
from compiler.memory_use import MemoryUse
from compiler.passes.schedule import scheduled

PAGE_BYTES = 4096


def run(graph: Graph, target) -> Graph:
    attrs, use = _lay_out(graph, target)
    capacity = target.memories[target.main_memory].capacity_bytes
    if use.total_bytes > capacity:
        raise CompilerError(refusal(graph, target, use))
    out = graph.with_ops({name: graph.op(name).with_attrs(**a) for name, a in attrs.items()})
    cross = _cross_channel_ranges(graph, target, attrs)
    return out.with_meta(dram_bytes=use.total_bytes, weight_bytes=use.weight_bytes,
                         kv_bytes=use.kv_layout_bytes, activation_bytes=use.activation_bytes,
                         workspace_bytes=use.workspace_bytes,
                         resident_peak_bytes=use.resident_peak_bytes,
                         **({"cross_channel_ranges": cross} if cross else {}))


def footprint(graph: Graph, target) -> MemoryUse:
    """The main-memory bytes by kind the graph's program needs on `target` (no capacity check):
    what `hwsim fit` weighs against the capacity."""
    return _lay_out(graph, target)[1]


def refusal(graph: Graph, target, use: MemoryUse) -> str:
    """The one-line "does not fit" message with the bytes by kind."""
    capacity = target.memories[target.main_memory].capacity_bytes
    return (f"{graph.model.name} does not fit {target.name}: it needs "
            f"{use.total_bytes / 1e9:.2f} GB (weights {use.weight_bytes / 1e9:.2f} GB at "
            f"{graph.workload.quant}, KV cache {use.kv_bytes / 1e9:.2f} GB, activations "
            f"{use.activation_bytes / 1e9:.2f} GB, workspace {use.workspace_bytes / 1e9:.2f} GB)"
            f" but {target.main_memory} holds {capacity / 1e9:.2f} GB")


def _lay_out(graph: Graph, target) -> tuple[dict, MemoryUse]:
    """Off-chip: weights, the KV cache, the spilled-activation pool (reused by liveness), the
    workspace (results: the logits the sampler reads); on chip: the resident region."""
    dram = _Bump()
    attrs: dict[str, dict] = {op.name: {} for op in graph.ops()}
    homes = {}
    for op in graph.ops():  # weights, in program order
        if op.weight is not None and not op.attr("tied"):
            homes[op.name] = dram.take(_stored_bytes(op))
    embed = homes.get("embed")
    weight_top = dram.top
    kv_exact = 0
    for op in graph.ops():
        if op.weight is not None:
            attrs[op.name]["weight_addr"] = embed if op.attr("tied") else homes[op.name]
        if op.kind == OpKind.KV_WRITE:
            regions = _kv_regions(op, graph, dram)
            kv_exact += regions.pop("region_bytes")
            attrs[op.name].update(regions)
    kv_top = dram.top
    _propagate_kv(graph, attrs)
    resident_peak, pool_bytes, workspace = _place_activations(graph, target, attrs, kv_top)
    use = MemoryUse(weight_bytes=weight_top, kv_bytes=kv_exact,
                    kv_layout_bytes=kv_top - weight_top, activation_bytes=pool_bytes,
                    workspace_bytes=workspace, resident_peak_bytes=resident_peak)
    return attrs, use


def _stored_bytes(op) -> int:
    return -(-int(op.weight.elements * _bits_per_weight(op)) // 8)


def _bits_per_weight(op) -> float:
    """Stored bits per weight: its width (times the kept fraction when N:M / block sparse),
    plus, under a weight-only scheme (w4a16, w8a16), its share of the fp16 group scale
    streamed with it (16 / group size: 0.125 bits at groups of 128)."""
    sparsity = op.attr("sparsity")
    kept = sparsity[0] / sparsity[1] if sparsity else 1.0
    quant = op.attr("quant") or {}
    scale_bits = 16 / quant["group_size"] if quant.get("act_granularity") == "none" and \
        quant.get("group_size") else 0.0
    return op.weight.bits * kept + scale_bits


def weight_tile_address(op, matrix: int, n0: int, k0: int, tn: int, tk: int) -> tuple[int, int]:
    """(address, bytes) of a weight tile. Matrix weights are stored tile-major, as FlightLLM lays
    weights out per channel: column blocks of the tile width one after another, each block's K
    tiles contiguous inside it, so every tile streams as one contiguous transfer (no padding);
    a weight-only scheme's group scales travel inside the tile they scale."""
    bits = _bits_per_weight(op)
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
    regions = 1 if graph.model.mla is not None else 2
    return {"k_addr": k_addr, "v_addr": v_addr, "max_len": total, "row_bytes": row,
            "region_bytes": regions * per_region}


def _propagate_kv(graph: Graph, attrs) -> None:
    """Attention ops read the cache regions their layer's KV_WRITE laid out."""
    for op in graph.ops():
        if op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            write = attrs[f"L{op.layer}.kv_write"]
            key = "k_addr" if op.kind == OpKind.ATTN_SCORE else "v_addr"
            attrs[op.name].update(kv_addr=write[key], max_len=write["max_len"],
                                  kv_row_bytes=write["row_bytes"])


def _place_activations(graph: Graph, target, attrs, pool_base: int) -> tuple[int, int, int]:
    """Homes of the activations; returns (resident peak on chip, off-chip pool bytes,
    workspace bytes). The pool starts at `pool_base`, the workspace right after it. The
    spilled tensors only GEMVs read get a pool of their own after the first, so an address in
    the cross-channel ranges never holds another tensor (the layout is the same whether or not
    the memory has cross-channel loads)."""
    region = plan_buffers(target).resident
    mech = getattr(target, "mechanisms", None)
    on_chip = getattr(mech, "always_on_chip_decode", True)
    ops = scheduled(graph)
    last_use = last_uses(graph, ops)
    chip = FirstFitPool(region.size_bytes, 64)
    spill, gemv_in = FirstFitPool(None, PAGE_BYTES), FirstFitPool(None, PAGE_BYTES)
    workspace, results = _Bump(), {}
    for i, op in enumerate(ops):
        for pool in (chip, spill, gemv_in):
            if pool.live:  # (the spill pools stay empty where everything fits on chip)
                pool.free_dead(i)
        if op.kind == OpKind.KV_WRITE:
            continue
        if op.attr("fused_attention") or (op.attr("fused_into") and op.kind == OpKind.SOFTMAX):
            attrs[op.name]["home"] = ("fused", op.attr("fused_into") or op.name)
            continue  # scores and probabilities never leave the fused kernel's tiles
        if graph.out_degree(op.name) == 0:  # logits, a kernel's output
            results[op.name] = workspace.take(op.output.nbytes)
            continue
        offset = chip.place(op.output.nbytes, last_use[op.name]) if on_chip else None
        if offset is not None:
            attrs[op.name]["home"] = ("onchip", region.buffer_id, region.offset + offset)
            continue
        pool = gemv_in if _read_by_gemv_only(graph, op.name) else spill
        attrs[op.name]["home"] = ("spill", pool is gemv_in,
                                  pool.place(op.output.nbytes, last_use[op.name]))
    bases = {False: pool_base, True: pool_base + spill.peak_bytes}
    for a in attrs.values():
        if a.get("home", ("",))[0] == "spill":
            a["home"] = ("dram", bases[a["home"][1]] + a["home"][2])
    pool_bytes = spill.peak_bytes + gemv_in.peak_bytes
    for name, offset in results.items():
        attrs[name]["home"] = ("dram", pool_base + pool_bytes + offset)
    return chip.peak_bytes, pool_bytes, workspace.top


def _cross_channel_memory(target) -> bool:
    memory = target.memories[target.main_memory]
    return getattr(memory, "cross_channel_efficiency_fraction", None) is not None


def _read_by_gemv_only(graph: Graph, name: str) -> bool:
    readers = graph.successors(name)
    return bool(readers) and all(graph.op(r).attr("queue") == "MV" for r in readers)


def _cross_channel_ranges(graph: Graph, target, attrs) -> list[list[int]]:
    """[address, bytes] of every spilled activation whose readers all run on the MV queue,
    in program order; empty unless the main memory sets cross_channel_efficiency_fraction."""
    if not _cross_channel_memory(target):
        return []
    ranges = []
    for op in graph.ops():
        home = attrs[op.name].get("home")
        if home and home[0] == "dram" and _read_by_gemv_only(graph, op.name):
            ranges.append([home[1], op.output.nbytes])
    return ranges


class _Bump:
    def __init__(self) -> None:
        self.top = 0

    def take(self, size: int) -> int:
        addr = self.top
        self.top += -(-size // PAGE_BYTES) * PAGE_BYTES
        return addr
