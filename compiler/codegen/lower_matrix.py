"""Lower MATMUL and attention ops: weight-stationary tile loops on MM / MV / PIM.

Loop nest: sequence (attention) or expert (MoE) -> group chunk -> N tile -> M tile -> K tile.
A weight (or KV) tile is loaded once per N tile when K is whole, else per (M, K) tile; each
output tile accumulates in an output slot (32-bit) and one VEC instruction converts it to the
activation dtype (REQUANT for integers, VCOPY for floats, or the fused activation) into its home.
Attention M tiles cover whole query tokens (tm is a multiple of the heads per KV group).
"""
from __future__ import annotations

import math

from compiler.codegen.operands import act_window, kv_addr, out_window
from compiler.codegen.repeat import loop_state, repeat
from compiler.ir.ops import OpKind, expected_experts_touched
from compiler.passes.allocate import weight_tile_address
from isa import DRAM_BUFFER_ID

ACC = {True: "int32", False: "fp32"}
BITS = {"int2": 2, "int3": 3, "int4": 4, "int8": 8, "fp8": 8, "int16": 16, "fp16": 16,
        "bf16": 16, "int32": 32, "fp32": 32}


def lower_matrix(cx, op) -> None:
    t = op.attr("tiles")
    attention = op.kind != OpKind.MATMUL
    adt = op.attr("compute_dtype")
    integer = adt.startswith("int")
    wdt = (op.kv.dtype if op.kv is not None else adt) if attention else op.weight.dtype
    if integer and wdt.startswith("fp"):
        wdt = "int8"  # FP cache entries enter an integer unit quantized
    sources = cx.graph.sources(op.name)
    side = [r for s in sources[1:] for r in cx.writers.get(s, [])]
    war = cx.begin_tensor(op.name)
    outer = op.attr("batch") if attention else _experts_touched(op)
    for b in range(outer):
        tb = own_length(cx, op, t, b) if attention else t
        for g0 in range(0, tb["groups"], tb["g_per"]):
            for n0 in range(0, tb["n"], tb["tn"]):
                _n_tile(cx, op, tb, b, g0, n0, adt, wdt, integer, sources[0], side, war)


def own_length(cx, op, t, b) -> dict:
    """Sequence b's tiles when the decode batch has per-sequence lengths (Workload.contexts):
    its score / context product covers only its own cached tokens plus the new one."""
    contexts = cx.graph.workload.contexts
    if not contexts or op.attr("q_len") != 1:
        return t
    dim = "n" if op.kind == OpKind.ATTN_SCORE else "k"
    return {**t, dim: min(t[dim], contexts[b] + 1)}


def _n_tile(cx, op, t, b, g0, n0, adt, wdt, integer, act_src, side, war) -> None:
    pim = op.attr("opcode") == "PIM_GEMV"
    tn = min(t["tn"], t["n"] - n0)
    tile = [None]  # the weight tile in use (loaded once per N tile when K is whole)
    o_role = "pim_output" if pim and "pim_output" in cx.slots else "output"  # buffer_plan
    in_place = _converts_on_same_unit(cx.target, op)

    def m_tile(j: int) -> None:
        m0 = j * t["tm"]
        tm = min(t["tm"], t["m"] - m0)
        o_index, o_region, o_prev = cx.slot_for(o_role)
        last = _k_tiles(cx, op, t, b, g0, n0, tn, m0, tm, adt, wdt, integer, act_src, side,
                        pim, tile, (o_region, o_prev))
        row0, rows, col0, cols = out_window(cx, op, t, b, g0, m0, tm, n0, tn)
        staging = None if in_place else (o_role, o_index, o_region)
        d_buf, d_addr, d_deps, commit = cx.output_target(op.name, row0, rows, col0, cols,
                                                         staging=staging)
        note = cx.note(op.name, pitch=cx.pitch(op.name, cols), col0=n0,
                       **_layout(op, t, tm, tn, None, None)) if cx.annotate else None
        conv = cx.em.emit(
            "VEC", op.attr("epilogue") or ("REQUANT" if integer else "VCOPY"), note=note,
            deps=[last, *war, *d_deps], dtype_in=ACC[integer], dtype_out=op.output.dtype,
            rows=tm, cols=tn, src0_buf=o_region.buffer_id, src0_addr=o_region.offset,
            dst_buf=d_buf, dst_addr=d_addr, imm=1 << 15 if integer else 0,
            shift=15 if integer else 0, count=t["g_per"])
        cx.read_by(o_role, o_index, conv)
        commit(conv)

    # M tiles 1 .. the last full one are alike but for addresses (affine in m0): the first
    # loads the weight tile the others reuse
    names = (op.name, act_src)
    repeat(cx, -(-t["m"] // t["tm"]), 1, t["m"] // t["tm"], m_tile,
           lambda: loop_state(cx, names, [tile[0] and tile[0][2]]))


def _k_tiles(cx, op, t, b, g0, n0, tn, m0, tm, adt, wdt, integer, act_src, side, pim, tile,
             out) -> object:
    """The products of one output tile over K; -> the last one."""
    o_region, o_prev = out
    last = None
    for k0 in range(0, t["k"], t["tk"]):
        tk = min(t["tk"], t["k"] - k0)
        if pim:
            first = n0 if op.kind == OpKind.ATTN_SCORE else k0
            w_buf, w_addr, w_deps = DRAM_BUFFER_ID, kv_addr(op, b, g0, first), []
        else:
            if tile[0] is None or t["tk"] < t["k"]:
                tile[0] = _load_weight(cx, op, t, b, g0, n0, tn, k0, tk, wdt, side)
            w_buf, w_addr, w_deps = tile[0][0], tile[0][1], [tile[0][2]]
        row0, rows, col0, cols = act_window(cx, op, t, b, g0, m0, tm, k0, tk)
        step = cx.last_token_rows(op)
        if step > 1:  # sequence b's last token is row b * step + step - 1
            row0, rows = m0 * step + step - 1, tm
        a_buf, a_addr, a_deps, a_done = cx.read(act_src, row0, rows, col0, cols, step)
        note = cx.note(op.name, act_pitch=cx.pitch(act_src, cols) * (
            step if cx.home(act_src)[0] == "onchip" else 1), k0=k0, n0=n0, **_layout(
            op, t, tm, tn, tk, tile[0][5] if tile[0] else None)) if cx.annotate else None
        rec = cx.em.emit(
            op.attr("queue"), op.attr("opcode"), note=note,
            deps=[*w_deps, *a_deps, *side, *(o_prev if k0 == 0 else [])],
            unit=op.attr("unit"), dtype_act=adt, dtype_wgt=wdt, dtype_out=ACC[integer],
            m=tm, n=tn, k=tk, act_buf=a_buf, act_addr=a_addr, wgt_buf=w_buf,
            wgt_addr=w_addr, out_buf=o_region.buffer_id, out_addr=o_region.offset,
            accumulate=int(k0 > 0), count=t["g_per"], act_step=int(t["g_per"] > 1),
            wgt_transposed=int(op.kind == OpKind.ATTN_SCORE), **_sparse(op))
        a_done([rec])
        if not pim:
            cx.read_by(tile[0][3], tile[0][4], rec)
        last = rec
    return last


def _converts_on_same_unit(target, op) -> bool:
    """The op's unit also serves the VEC queue (a GPU's SMs): its tile conversions and products
    take turns on the unit, so a spilled tile is staged in the other output slot and the next
    product waits for the conversion only, not the store (Lowering.output_target). Elsewhere
    (FlightLLM's MPE and SFU, NeuPIMs' arrays and vector unit) a product overlaps the previous
    tile's conversion, and the tile is converted in place and stored from its accumulator."""
    name = target.units_for_queue(op.attr("queue"))[op.attr("unit")]  # ISA unit field: i-th
    return "VEC" in target.units[name].queues


def _load_weight(cx, op, t, b, g0, n0, tn, k0, tk, wdt, deps):
    """LOAD one weight (or KV) tile into a slot -> (buf, addr, rec, role, slot index)."""
    attention = op.kind != OpKind.MATMUL
    role = "kv" if attention else "weight"
    index, region, prev = cx.slot_for(role)
    wbytes = BITS[wdt] / 8 * _kept(op)
    if attention:
        rows, row_bytes = t["g_per"], math.ceil(tn * tk * wbytes)
        first = n0 if op.kind == OpKind.ATTN_SCORE else k0
        dram, stride = kv_addr(op, b, g0, first), op.attr("max_len") * op.attr("kv_row_bytes")
    else:  # tile-major layout (passes/allocate.py): one contiguous block per tile
        dram, row_bytes = weight_tile_address(op, b + g0, n0, k0, tn, tk)
        nxt, _ = weight_tile_address(op, b + g0 + 1, n0, k0, tn, tk)
        rows, stride = t["g_per"], nxt - dram
    rec = cx.em.emit("LD", "LOAD", deps=[*prev, *deps], buf=region.buffer_id, dtype=wdt,
                     sram_addr=region.offset, dram_addr=dram, rows=rows, row_bytes=row_bytes,
                     dram_stride_bytes=stride if rows > 1 else 0)
    return region.buffer_id, region.offset, rec, role, index, row_bytes


def _layout(op, t, tm, tn, tk, tile_bytes) -> dict:
    """Functional annotation: how a matrix tile's rows map onto the tensors (see
    hwsim.functional.matrix). Attention tiles hold `hpg` query heads per KV group and g_per
    groups; their K / V tiles are token rows of kv_row_bytes."""
    facts = {"kind": op.kind.value}
    if op.attr("opcode") == "PIM_GEMV":
        facts["wgt_tile_stride"] = op.attr("max_len") * op.attr("kv_row_bytes")
    elif tile_bytes is not None:
        facts["wgt_tile_stride"] = tile_bytes
    if op.kind != OpKind.MATMUL:
        hpg = op.attr("heads") // op.attr("kv_heads")
        facts.update(heads=op.attr("heads"), hpg=hpg, head_dim=op.attr("head_dim"),
                     wgt_pitch=op.attr("kv_row_bytes"),
                     whole_rows=max(1, tm // hpg) == 1 or t["g_per"] * hpg == op.attr("heads"))
    return facts


def _experts_touched(op) -> int:
    experts = op.attr("experts")
    if not experts:
        return 1
    return math.ceil(expected_experts_touched(experts, op.attr("top_k"),
                                              op.attr("route_tokens")) - 1e-9)


def _sparse(op) -> dict:
    sparsity = op.attr("sparsity")
    if not sparsity:
        return {}
    return {"sparse_mode": "nm", "sparse_n": sparsity[0], "sparse_m": sparsity[1]}


def _kept(op) -> float:
    sparsity = op.attr("sparsity")
    return sparsity[0] / sparsity[1] if sparsity else 1.0
