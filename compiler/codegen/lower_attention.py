"""Lower a fused attention kernel (compiler/passes/fuse_attention.py) at its score op.

Loop nest: sequence -> KV-group chunk -> query block (tm rows, whole tokens) -> key block (tn
keys, up to the block's last query position: blocks above the causal diagonal are skipped).
Per key block: LOAD K, MATMUL S = Q K^T into a score slot, VEC SOFTMAX in place (the online
softmax: running max and sum per row), LOAD V, MATMUL O += P V into an accumulator slot. After
the last key block one VEC converts O into the context output's home. The score and probability
tensors are never stored; the query tile is read once per query block. The online softmax's
rescale of O when the running max grows is part of the kernel's register work and not an
instruction of its own.
"""
from __future__ import annotations

from compiler.codegen.lower_matrix import own_length
from compiler.codegen.operands import act_window, kv_addr, out_window
from compiler.codegen.repeat import loop_state, repeat


def lower_fused_attention(cx, score) -> None:
    graph = cx.graph
    softmax, context = graph.op(score.attr("fused_softmax")), graph.op(score.attr("fused_context"))
    t = score.attr("tiles")
    war = cx.begin_tensor(context.name)  # scores and P are never written: no home (allocate)
    q_src = graph.sources(score.name)[0]
    side = [r for op in (score, context) for s in graph.sources(op.name)[1:]
            for r in cx.writers.get(s, [])]
    for b in range(score.attr("batch")):
        keys = own_length(cx, score, t, b)["n"]
        for g0 in range(0, t["groups"], t["g_per"]):
            for m0 in range(0, t["m"], t["tm"]):
                _query_block(cx, score, softmax, context, t, b, g0, m0, keys, q_src, side, war)


def _query_block(cx, score, softmax, context, t, b, g0, m0, keys, q_src, side, war) -> None:
    hpg = score.attr("heads") // score.attr("kv_heads")
    tm, g_per, hd = min(t["tm"], t["m"] - m0), t["g_per"], t["k"]
    last_token = (m0 + tm) // hpg - 1
    keys_end = min(keys, score.attr("context") + last_token + 1)  # causal: later keys masked
    kv_dtype, kv_row = score.kv.dtype, score.attr("kv_row_bytes")
    stride = score.attr("max_len") * kv_row
    adt, pdt = score.attr("compute_dtype"), softmax.output.dtype
    row0, rows, col0, cols = act_window(cx, score, t, b, g0, m0, tm, 0, hd)
    q_buf, q_addr, q_deps, q_done = cx.read(q_src, row0, rows, col0, cols)
    s_index, s_region, s_prev = cx.slot_for("output")
    o_index, o_region, o_prev = cx.slot_for("output")
    mm = dict(unit=score.attr("unit"), count=g_per, act_step=int(g_per > 1), dtype_out="fp32",
              dtype_wgt=kv_dtype)
    s_fields = dict(dtype_act=adt, m=tm, k=hd, act_buf=q_buf, act_addr=q_addr,
                    out_buf=s_region.buffer_id, out_addr=s_region.offset, accumulate=0,
                    wgt_transposed=1, **mm)
    p_fields = dict(dtype_in="fp32", dtype_out=pdt, rows=tm, src0_buf=s_region.buffer_id,
                    src0_addr=s_region.offset, src1_buf=0, src1_addr=0,
                    dst_buf=s_region.buffer_id, dst_addr=s_region.offset, count=g_per)
    pv_fields = dict(dtype_act=pdt, m=tm, n=hd, act_buf=s_region.buffer_id,
                     act_addr=s_region.offset, out_buf=o_region.buffer_id,
                     out_addr=o_region.offset, wgt_transposed=0, **mm)
    # per key block only the KV addresses move: kv_addr is affine in the position
    k_addr0, v_addr0 = kv_addr(score, b, g0, 0), kv_addr(context, b, g0, 0)
    k_row, v_row = score.attr("kv_row_bytes"), context.attr("kv_row_bytes")
    reads_q, last = [], [None]  # last: the latest MATMUL O += P V

    def key_block(j: int) -> None:  # LOAD K, S = Q K^T, SOFTMAX, LOAD V, O += P V
        n0 = j * t["tn"]
        tn = min(t["tn"], keys_end - n0)
        k_tile = _load_kv(cx, k_addr0 + n0 * k_row, g_per, tn * kv_row, stride, kv_dtype)
        s = cx.em.emit(score.attr("queue"), score.attr("opcode"),
                       deps=[k_tile[0], *q_deps, *side, *(s_prev if j == 0 else last)],
                       n=tn, wgt_buf=k_tile[1], wgt_addr=k_tile[2], **s_fields)
        cx.read_by("kv", k_tile[3], s)
        reads_q.append(s)
        p = cx.em.emit("VEC", softmax.attr("opcode"), deps=[s], cols=tn, **p_fields)
        v_tile = _load_kv(cx, v_addr0 + n0 * v_row, g_per, tn * kv_row, stride, kv_dtype)
        last[0] = cx.em.emit(context.attr("queue"), context.attr("opcode"),
                             deps=[p, v_tile[0], *(o_prev if j == 0 else [])], k=tn,
                             wgt_buf=v_tile[1], wgt_addr=v_tile[2], accumulate=int(j > 0),
                             **pv_fields)
        cx.read_by("kv", v_tile[3], last[0])

    # iterations 1 .. the last full key block are alike but for the KV addresses (affine)
    names = (context.name, q_src)
    repeat(cx, -(-keys_end // t["tn"]), 1, keys_end // t["tn"], key_block,
           lambda: loop_state(cx, names, last))
    q_done(reads_q)
    row0, rows, col0, cols = out_window(cx, context, {"g_per": g_per}, b, g0, m0, tm, 0, hd)
    d_buf, d_addr, d_deps, commit = cx.output_target(context.name, row0, rows, col0, cols)
    conv = cx.em.emit("VEC", context.attr("epilogue") or "VCOPY", deps=[last[0], *war, *d_deps],
                      dtype_in="fp32", dtype_out=context.output.dtype, rows=tm, cols=hd,
                      src0_buf=o_region.buffer_id, src0_addr=o_region.offset, dst_buf=d_buf,
                      dst_addr=d_addr, imm=0, shift=0, count=g_per)
    cx.read_by("output", s_index, last[0])
    cx.read_by("output", o_index, conv)
    commit(conv)


def _load_kv(cx, dram_addr, groups, row_bytes, stride, dtype):
    """LOAD a K or V block (one row of `row_bytes` per KV group) -> (rec, buf, addr, slot)."""
    index, region, prev = cx.slot_for("kv")
    rec = cx.em.emit("LD", "LOAD", deps=prev, buf=region.buffer_id, dtype=dtype,
                     sram_addr=region.offset, dram_addr=dram_addr, rows=groups,
                     row_bytes=row_bytes, dram_stride_bytes=stride if groups > 1 else 0)
    return rec, region.buffer_id, region.offset, index
