"""Tile: pick tile sizes so every double-buffered tile fits its slot.

Matrix ops get (tm, tn, tk): the weight (or KV) tile tk x tn fits a weight slot, the activation
tile tm x tk an activation slot, the accumulator tile tm x tn (32-bit) an output slot. K is kept
whole when it fits (no partial sums), N and K are multiples of ALIGN. Vector ops get a row count.
"""
from __future__ import annotations

import math

from compiler import pim_placement
from compiler.buffer_plan import plan_buffers
from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind, expected_experts_touched
from isa.formats import MEM

ALIGN = 16
ACC_BITS = 32
MAX_DIM = 65535  # 16-bit ISA tile fields
MAX_TRANSFER_BYTES = MEM.field("row_bytes").max_value  # one LD row: the largest tile it moves
# A GEMV's weight stream (MV queue, decode) is cut into at least this many tiles. With two
# ping-pong slots one tile's compute is exposed wherever the in-order load queue must wait
# for data (the new token's K/V before attention, the end of the program): the drain is
# 1/STREAM_TILES of the op at most, and past the slot size that allows it a larger buffer
# no longer changes the tiles (docs/compiler.md, "Tile sizes and the pipeline drain").
STREAM_TILES = 8
STREAM_TILE_LATENCIES = 10


def run(graph: Graph, target) -> Graph:
    plan = plan_buffers(target, pim_placement.output_slots(target, graph.workload))
    memory = target.memories[target.main_memory]
    return graph.map_ops_by_content(lambda op: _tile(op, plan, memory))


def matrix_dims(op: Op) -> tuple[int, int, int, int]:
    """(m, n, k, groups): each of `groups` products is (m x k) @ (k x n). MoE: m is the rows
    one touched expert sees; attention: one sequence, groups = KV heads."""
    if op.kind == OpKind.MATMUL:
        w = op.weight.shape
        if op.attr("experts"):
            touched = math.ceil(expected_experts_touched(
                op.attr("experts"), op.attr("top_k"), op.attr("route_tokens")) - 1e-9)
            return math.ceil(op.attr("rows") / touched), w[-1], w[-2], 1
        return op.attr("rows"), w[-1], w[-2], (w[0] if len(w) == 3 else 1)
    per_group = op.attr("heads") // op.attr("kv_heads")
    m = per_group * op.attr("q_len")
    total = op.attr("context") + op.attr("q_len")
    hd = op.attr("head_dim")
    if op.kind == OpKind.ATTN_SCORE:
        return m, total, hd, op.attr("kv_heads")
    return m, hd, total, op.attr("kv_heads")


def _tile(op: Op, plan, memory) -> Op:
    if op.attr("fused_attention"):
        return op.with_attrs(tiles=tile_fused_attention(op, plan))
    if op.kind in (OpKind.MATMUL, OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
        return op.with_attrs(tiles=tile_matrix(op, plan, memory))
    if op.attr("queue") == "VEC":
        row_bytes = max(t.nbytes // t.shape[0] for t in (*op.inputs, op.output))
        rows = min(op.output.shape[0], MAX_DIM, plan.slot_bytes("activation") // row_bytes,
                   plan.slot_bytes("output") // row_bytes)
        if rows < 1:
            raise CompilerError(f"{op.name}: one row of {row_bytes} B does not fit the "
                                f"{plan.slots['activation'][0].buffer_name} slot")
        return op.with_attrs(tiles={"rows": rows})
    return op


def tile_matrix(op: Op, plan, memory=None) -> dict:
    """Largest tiles that fit; `g_per` groups share one instruction (count) when they fit.
    `memory` (the target's main memory): GEMV weight streams then take _stream_cap tiles."""
    m, n, k, groups = matrix_dims(op)
    g_per = groups
    while True:
        tiles = _fit(op, plan, m, n, k, g_per, memory)
        if tiles is not None or g_per == 1:
            break
        g_per = max(1, g_per // 2)
    if tiles is None:
        wrole = "kv" if op.kind != OpKind.MATMUL else "weight"
        region = plan.slots[wrole][0]
        raise CompilerError(f"{op.name}: no tile of ({m} x {k}) @ ({k} x {n}) fits the "
                            f"buffers (a {region.size_bytes} B slot of {region.buffer_name})")
    while groups % g_per:
        g_per -= 1
    return {"m": m, "n": n, "k": k, "groups": groups, "g_per": g_per, **tiles}


def tile_fused_attention(op: Op, plan) -> dict:
    """Tiles of a fused attention kernel (passes/fuse_attention.py): tm query rows (whole
    tokens of one block, `fused_blocks`), tn keys per block, head_dim whole; as many KV groups
    per instruction as fit: the score tile and the P V accumulator (32-bit) in an output slot
    each, the K or V tile in a kv slot, the query tile in an activation slot."""
    m, n, hd, groups = matrix_dims(op)
    hpg = op.attr("heads") // op.attr("kv_heads")
    block_q, block_k = op.attr("fused_blocks")
    tm, tn = min(m, block_q * hpg), min(n, block_k)
    kv_bits = op.kv.bits if op.kv is not None else 16
    need = {"output": max(tm * tn, tm * hd) * ACC_BITS // 8,
            "kv": _bytes(tn * hd, kv_bits), "activation": _bytes(tm * hd, op.inputs[0].bits)}
    g_per = groups
    q_row_bytes = _bytes(hpg * hd, op.inputs[0].bits)  # a spilled query tile's LD row
    while g_per > 1 and (any(g_per * b > plan.slot_bytes(r) for r, b in need.items())
                         or g_per * q_row_bytes > MAX_TRANSFER_BYTES):
        g_per -= 1
    while groups % g_per:
        g_per -= 1
    short = [r for r, b in need.items() if b > plan.slot_bytes(r)]
    if short:
        region = plan.slots[short[0]][0]
        raise CompilerError(f"{op.name}: a fused attention block of {tm} x {tn} does not fit "
                            f"the {region.size_bytes} B {short[0]} slot of {region.buffer_name}")
    return {"m": m, "n": n, "k": hd, "groups": groups, "g_per": g_per, "tm": tm, "tn": tn,
            "tk": hd}


def _fit(op: Op, plan, m: int, n: int, k: int, g: int, memory=None):
    """Among tile shapes that fit, the one with the fewest instructions (weight and activation
    loads, matrix instructions, output conversions, partial-sum passes); whole K wins ties."""
    best = None
    facts = _fit_facts(op, plan, g)
    for tk in _k_candidates(op, plan, k, g):
        tiles = _fit_k(op, facts, m, n, k, tk, memory)
        if tiles is None:
            continue
        nt, mt, kt = (-(-n // tiles["tn"]), -(-m // tiles["tm"]), -(-k // tiles["tk"]))
        weight_loads = nt * (1 if kt == 1 else mt * kt)
        partial_sums = nt * mt * (kt - 1)  # accumulating across K tiles costs a re-read
        cost = weight_loads + 2 * nt * mt * kt + nt * mt + partial_sums
        if best is None or cost < best[0]:
            best = (cost, tiles)
    return None if best is None else best[1]


def _k_candidates(op: Op, plan, k: int, g: int) -> list[int]:
    """Whole K first, then halvings down to ALIGN (multiples of ALIGN and of the N:M group)."""
    out, tk = [min(k, MAX_DIM)], k
    while tk > ALIGN:
        tk = _align(tk // 2)
        if tk < k and tk not in out:
            out.append(tk)
    sparsity = op.attr("sparsity")
    return [c for c in out if not sparsity or c % sparsity[1] == 0 or c == k]


def _fit_facts(op: Op, plan, g: int) -> tuple:
    """What _fit_k reads of the op and the buffer plan for `g` groups per instruction (the
    same for every K candidate): (pim, attention, wbits, kept, abits, wslot, aslot, oslot,
    step)."""
    pim = op.attr("opcode") == "PIM_GEMV"
    attention = op.kind != OpKind.MATMUL
    wbits = (op.kv.bits if op.kv is not None else 16) if attention else op.weight.bits
    if op.attr("compute_dtype", "").startswith("int") and attention:
        wbits = min(wbits, 8)
    kept = _kept_fraction(op)
    abits = 8 if op.attr("compute_dtype") == "int8" else op.inputs[0].bits
    wslot = min(plan.slot_bytes("kv" if attention else "weight"), MAX_TRANSFER_BYTES) // g
    aslot = min(plan.slot_bytes("activation"), MAX_TRANSFER_BYTES) // g
    orole = "pim_output" if pim and "pim_output" in plan.slots else "output"  # buffer_plan
    oslot = plan.slot_bytes(orole) // g
    step = op.attr("heads") // op.attr("kv_heads") if attention else 1  # whole query tokens
    return pim, attention, wbits, kept, abits, wslot, aslot, oslot, step


def _fit_k(op: Op, facts: tuple, m: int, n: int, k: int, tk_cap: int, memory=None):
    pim, attention, wbits, kept, abits, wslot, aslot, oslot, step = facts
    if pim:
        tk, tn = min(k, MAX_DIM), min(n, MAX_DIM)
    else:
        tk = tk_cap if _bytes(tk_cap * min(n, ALIGN) * kept, wbits) <= wslot \
            else min(tk_cap, _align(wslot * 8 // max(1, int(ALIGN * wbits * kept))))
        tn = min(n, MAX_DIM, _align(int(wslot * 8 // max(1, tk * wbits * kept))))
        if memory is not None and op.attr("queue") == "MV" and not attention:  # GEMV stream
            tn = balanced(n, min(tn, _stream_cap(n, tk * wbits * kept / 8, memory)))
    while True:
        tm = min(m, MAX_DIM, aslot * 8 // max(1, tk * abits), oslot * 8 // (tn * ACC_BITS))
        tm = tm // step * step if tm < m else tm
        if tm >= 1 or tn <= ALIGN:
            break
        tn = _align(tn // 2)
    if tm < 1 or (not pim and _bytes(tk * tn * kept, wbits) > wslot):
        return None
    return {"tm": tm, "tn": tn, "tk": tk}


def _stream_cap(n: int, column_bytes: float, memory) -> int:
    """Widest tile of a GEMV weight stream: 1/STREAM_TILES of its columns, but never a tile
    that moves fewer bytes than STREAM_TILE_LATENCIES memory latencies' worth of bandwidth
    (a smaller one would pay the access latency more than the drain it saves)."""
    floor_bytes = STREAM_TILE_LATENCIES * memory.latency_s * memory.bandwidth_bytes_per_s
    return _align_up(max(-(-n // STREAM_TILES), math.ceil(floor_bytes / column_bytes)))


def balanced(n: int, tn: int) -> int:
    """The width of ceil(n / tn) near-equal tiles (a multiple of ALIGN, never above `tn`).
    With two ping-pong slots, a short last tile loads faster than the tile before it
    computes, so the next op's first load waits for that compute and memory idles; the
    larger the slot, the longer the wait. Equal tiles leave no such remainder."""
    tiles = -(-n // tn)
    return tn if tiles == 1 else min(tn, _align_up(-(-n // tiles)))


def _kept_fraction(op: Op) -> float:
    sparsity = op.attr("sparsity")
    return sparsity[0] / sparsity[1] if sparsity else 1.0


def _align_up(value: int) -> int:
    return -(-value // ALIGN) * ALIGN


def _align(value: int) -> int:
    return max(ALIGN, value // ALIGN * ALIGN)


def _bytes(elements: float, bits: int) -> int:
    return -(-int(elements * bits) // 8)
