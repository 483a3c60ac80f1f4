"""Sub-batch interleaving (NeuPIMs §5): two half batches pipelined across the NPU and the PIM.

The decode batch splits into two sub-batches. Each is compiled on its own, against half of every
on-chip buffer (sub-batch 1 in the upper half), with its own KV cache and spilled activations
(the weights are shared: both read the same copy). Each program is cut into segments at the
boundaries between attention ops (score, softmax, context: PIM GEMVs and vector work) and the
rest (QKV generation, projection, FFN: NPU GEMMs), and the segments are emitted in the stage
order of the artifact's StageProgram (casys-kaist/NeuPIMs:src/StageProgram.cc):

    stage   0        1              2              3              ...   2L+1
    NPU     N0[0]    N0[1]          N1[0]          N1[1]                NL[1]
    PIM     -        A0[0]          A0[1]          A1[0]                -

(Nk[s]: sub-batch s's NPU segment k, from layer k-1's output projection to layer k's QKV
generation; Ak[s]: its attention of layer k.) Inside a stage the two segments' instructions are
merged in proportion to their lengths, so both advance together through the in-order queues.
Only the order changes: every dependency comes from the sub-batch's own program, re-encoded as
tokens for the merged queues, and the timing engine overlaps what the data allows. Sub-batch 1
never depends on sub-batch 0, so nothing is serialised except by the queues and units they share.
"""
from __future__ import annotations

from dataclasses import replace

import isa
from compiler import pim_placement
from compiler.codegen.emitter import Emitter
from compiler.errors import CompilerError
from compiler.ir.workload import Workload
from compiler.model import ModelSpec
from isa import DRAM_BUFFER_ID, Queue
from targets.loader import validate
from targets.overrides import apply_overrides

ATTENTION_KINDS = {"attn_score", "softmax", "attn_context"}
SRAM_FIELDS = (("buf", "sram_addr"), ("act_buf", "act_addr"), ("wgt_buf", "wgt_addr"),
               ("out_buf", "out_addr"), ("src0_buf", "src0_addr"), ("src1_buf", "src1_addr"),
               ("dst_buf", "dst_addr"))
ALIGN_BYTES = 64


def compile_step(model: ModelSpec, workload: Workload, target, interleave: bool = True,
                 compact: bool = False):
    """compiler.pipeline.compile_model, or the interleaved program where `interleaves` (and
    `interleave`: False compiles the whole batch as one even there, for a caller that weighs
    the two); with channel-local KV caches (compiler.pim_placement) the program says where each
    request lies."""
    from compiler.pipeline import compile_model
    placed = pim_placement.applies(target, workload)
    lengths = list(workload.contexts or (workload.context,) * workload.batch)
    channels = 0
    if placed:
        pim = next(u for u in target.units.values() if u.kind == "pim")
        channels = target.memories[pim.memory].channels
        mech = target.mechanisms
        channel_of = pim_placement.channels_of(lengths, channels, mech.channel_load_balancing)
    if interleave and interleaves(target, workload) and workload.phase == "decode":
        groups = [pim_placement.interleaved(g, channel_of, channels) for g in
                  pim_placement.split_by_channel(channel_of, channels)] if placed else \
            (list(range(workload.batch // 2)), list(range(workload.batch // 2, workload.batch)))
        compiled, parts, shift = compile_interleaved(model, workload, target, compile_model,
                                                     groups)
        if not placed:
            return compiled
        regions = [r for p, g, s in zip(parts, groups, (0, shift)) for r in
                   pim_placement.channel_map(p.graph, [channel_of[i] for i in g], s)]
    elif placed:  # the batch in channel-interleaved order (requests differ only in length)
        order = pim_placement.interleaved(list(range(workload.batch)), channel_of, channels)
        compiled = compile_model(model, _sub_workload(workload, order), target)
        regions = pim_placement.channel_map(compiled.graph, [channel_of[i] for i in order])
    else:  # `compact`: an isa.CompactProgram where the layers repeat (never for the above)
        return compile_model(model, workload, target, compact=compact)
    program = compiled.program
    meta = {**program.metadata, "pim_channels": pim_placement.metadata(target, regions)}
    return replace(compiled, program=replace(program, metadata=meta))


def interleaves(target, workload: Workload) -> bool:
    """Sub-batch interleaving applies: PIM attention and the mechanism on, a decode step of at
    least `mechanisms.sub_batch_min_batch` sequences (the artifact: 256) and never fewer than 2."""
    mech = getattr(target, "mechanisms", None)
    pim = any(u.kind == "pim" for u in target.units.values())
    return (pim and bool(getattr(mech, "sub_batch_interleaving", False))
            and bool(getattr(mech, "pim_attention", False))
            and workload.phase in ("decode", "generate")
            and workload.batch >= max(2, getattr(mech, "sub_batch_min_batch", 2)))


def compile_interleaved(model: ModelSpec, workload: Workload, target, compile_model,
                        groups=None):
    """The interleaved program of `workload` (a decode step) on `target`.

    `compile_model(model, workload, target)` is the normal compiler (compiler.pipeline), run
    once per sub-batch; `groups`: the request indices of each sub-batch (default: the first
    half and the rest). Returns (the first sub-batch's Compiled with the merged program, both
    sub-batches' Compiled, the second's KV relocation in bytes)."""
    from compiler.pipeline import lower
    lower(model, workload, target)  # the whole batch's KV cache must fit, not one sub-batch's
    half, offsets = _half_buffers(target)
    if groups is None:
        groups = (list(range(workload.batch // 2)), list(range(workload.batch // 2,
                                                               workload.batch)))
    sizes = tuple(len(g) for g in groups)
    parts = [compile_model(model, _sub_workload(workload, g), half) for g in groups]
    meta0 = parts[0].graph.meta
    shift = meta0["dram_bytes"] - meta0["weight_bytes"]  # sub-batch 1's KV after sub-batch 0's
    dram_bytes = meta0["dram_bytes"] + parts[1].graph.meta["dram_bytes"] - \
        parts[1].graph.meta["weight_bytes"]
    capacity = target.memories[target.main_memory].capacity_bytes
    if dram_bytes > capacity:
        raise CompilerError(f"{model.name} with two sub-batches of {sizes[0]} and {sizes[1]} "
                            f"needs {dram_bytes / 1e9:.2f} GB but {target.main_memory} holds "
                            f"{capacity / 1e9:.2f} GB")
    streams = [_records(parts[0].program, {}, 0, 0),
               _records(parts[1].program, offsets, meta0["weight_bytes"], shift)]
    segments = [_segments(p.program, recs) for p, recs in zip(parts, streams)]
    staged = len(segments[0]) == len(segments[1]) and len(segments[0]) % 2 == 1
    order = _stage_order(*segments) if staged else [r for recs in streams for r in recs]
    program = _emit(order, target, parts[0].program.metadata, dram_bytes, sizes)
    try:
        isa.verify(program, target.isa_resources())
    except isa.IsaError as err:
        raise CompilerError(f"internal error: interleaved program fails verification: {err}") \
            from None
    return replace(parts[0], program=program), parts, shift


def _sub_workload(workload: Workload, group: list[int]) -> Workload:
    """The decode step of the requests `group` (with their own lengths, if any)."""
    if workload.contexts is None:
        return replace(workload, batch=len(group))
    contexts = tuple(workload.contexts[i] for i in group)
    return replace(workload, batch=len(group), contexts=contexts, context=max(contexts))


def _half_buffers(target):
    """(target with every buffer half its size, {buffer id: byte offset of the upper half})."""
    names = list(target.buffers)
    halves = {n: target.buffers[n].size_bytes // 2 // ALIGN_BYTES * ALIGN_BYTES for n in names}
    tree = apply_overrides(target.model_dump(mode="python"),
                           [f"buffers.{n}.size_bytes={h}" for n, h in halves.items()],
                           target.name)
    return validate(tree, f"{target.name} (one sub-batch)"), \
        {i: halves[n] for i, n in enumerate(names)}


class _Rec:
    """One instruction of a sub-batch program, with the instructions it waits for."""

    __slots__ = ("queue", "opcode", "fields", "deps", "op", "out")

    def __init__(self, queue, opcode, fields, op):
        self.queue, self.opcode, self.fields, self.op = queue, opcode, fields, op
        self.deps, self.out = [], None


def _records(program, sram_offsets: dict, weight_bytes: int, dram_shift: int) -> list:
    """The program's instructions in an order consistent with its queues and tokens (Kahn over
    the per-queue streams), each with its token dependencies made explicit, relocated into its
    sub-batch's half of the buffers and its own KV / activation region off chip."""
    op_of = _op_of_rows(program)
    recs = {q: [] for q in Queue}
    for q in Queue:
        for i, instr in enumerate(program.streams[q]):
            fields = instr.fields
            wait, release = fields.pop("wait"), fields.pop("release")
            _relocate(fields, sram_offsets, weight_bytes, dram_shift)
            rec = _Rec(q.name, instr.opcode.name, fields, op_of[q].get(i, -1))
            rec.out = (wait, release)
            recs[q].append(rec)
    # FIFO tokens: the k-th wait of d on s is released by the k-th instruction of s releasing d
    releasers = {(s, d): [r for r in recs[s] if d in r.out[1]] for s in Queue for d in Queue}
    taken = {key: 0 for key in releasers}
    for d in Queue:
        for rec in recs[d]:
            for s in sorted(rec.out[0]):
                rec.deps.append(releasers[(s, d)][taken[(s, d)]])
                taken[(s, d)] += 1
    return _topological(recs)


def _relocate(fields: dict, sram_offsets: dict, weight_bytes: int, dram_shift: int) -> None:
    for buf, addr in SRAM_FIELDS:
        if buf in fields and fields[buf] != DRAM_BUFFER_ID:
            fields[addr] += sram_offsets.get(fields[buf], 0)
    if "dram_addr" in fields and fields["dram_addr"] >= weight_bytes:
        fields["dram_addr"] += dram_shift
    if fields.get("wgt_buf") == DRAM_BUFFER_ID and fields["wgt_addr"] >= weight_bytes:
        fields["wgt_addr"] += dram_shift  # a PIM GEMV reads the KV cache in place


def _op_of_rows(program) -> dict:
    """Queue -> {row: index of the metadata op it belongs to}."""
    out = {q: {} for q in Queue}
    for k, op in enumerate(program.metadata.get("ops", [])):
        for q in Queue:
            first = op["first"].get(q.name, 0)
            for i in range(first, first + op["count"].get(q.name, 0)):
                out[q][i] = k
    return out


def _topological(recs: dict) -> list:
    """Issue queue heads whose dependencies are issued, round robin; every queue keeps its order."""
    heads = {q: 0 for q in recs}
    done, order = set(), []
    total = sum(len(r) for r in recs.values())
    while len(order) < total:
        progressed = False
        for q, stream in recs.items():
            while heads[q] < len(stream) and all(id(d) in done for d in stream[heads[q]].deps):
                rec = stream[heads[q]]
                done.add(id(rec))
                order.append(rec)
                heads[q] += 1
                progressed = True
        if not progressed:
            raise CompilerError("internal error: a sub-batch program's tokens deadlock")
    return order


def _segments(program, order: list) -> list[list]:
    """`order` cut where it passes between attention ops and the rest (op order is monotone in
    a topological order of the emitted program, so each op falls in one segment)."""
    kinds = [op["kind"] for op in program.metadata.get("ops", [])]
    segment_of, current, last = {}, 0, False
    for k, kind in enumerate(kinds):  # ops in program order
        is_attn = kind in ATTENTION_KINDS
        if k and is_attn != last:
            current += 1
        segment_of[k], last = current, is_attn
    segments: list[list] = [[] for _ in range(current + 1)]
    for rec in order:
        segments[segment_of.get(rec.op, 0)].append(rec)
    return segments


def _stage_order(first: list, second: list) -> list:
    """Segments N0, A0, N1, A1, ..., NL of both sub-batches in NeuPIMs' stage order."""
    out = list(first[0])
    for k in range(0, len(first) - 1, 2):  # pairs (N_k of sub-batch 1, A_k of sub-batch 0) ...
        out += _merge(second[k], first[k + 1])
        out += _merge(first[k + 2], second[k + 1])
    return out + list(second[-1])


def _merge(npu: list, pim: list) -> list:
    """Both lists in order, interleaved in proportion to their lengths."""
    out, i, j = [], 0, 0
    while i < len(npu) or j < len(pim):
        if j >= len(pim) or (i < len(npu) and (i + 0.5) * len(pim) <= (j + 0.5) * len(npu)):
            out.append(npu[i])
            i += 1
        else:
            out.append(pim[j])
            j += 1
    return out


def _emit(order: list, target, metadata: dict, dram_bytes: int, sizes) -> isa.Program:
    em = Emitter()
    new = {}
    for rec in order:
        new[id(rec)] = em.emit(rec.queue, rec.opcode, deps=[new[id(d)] for d in rec.deps],
                               **rec.fields)
    meta = {**metadata, "dram_bytes": dram_bytes, "ops": [],
            "workload": {**metadata.get("workload", {}), "batch": sum(sizes)},
            "sub_batches": list(sizes)}
    return em.finalize(target.name, target.fingerprint(), meta)
