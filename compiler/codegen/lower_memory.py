"""Lower the embedding gather (LD) and the KV-cache append (ST)."""
from __future__ import annotations

from compiler.codegen.repeat import loop_state, repeat


def lower_embedding(cx, op) -> None:
    """Gather `tokens` rows of the table (row ids arrive at run time: program metadata)."""
    war = cx.begin_tensor(op.name)
    width = op.output.nbytes // op.output.shape[0]
    tile = max(1, min(op.output.shape[0], cx.plan.slot_bytes("activation") // width))
    for r0 in range(0, op.output.shape[0], tile):
        rows = min(tile, op.output.shape[0] - r0)
        d_buf, d_addr, d_deps, commit = cx.output_target(op.name, r0, rows)
        rec = cx.em.emit("LD", "LOAD", deps=[*war, *d_deps], note=cx.note(op.name, gather_row0=r0),
                         buf=d_buf, dtype=op.output.dtype,
                         sram_addr=d_addr, dram_addr=op.attr("weight_addr"), rows=rows,
                         row_bytes=width)
        commit(rec)


def lower_kv_write(cx, op) -> None:
    """Append this step's K and V rows of every sequence to the head-major cache, in chunks of
    tokens that fit an activation slot when the source was spilled."""
    cx.begin_tensor(op.name)
    w = cx.graph.workload
    q_len, heads, row = w.step_tokens, op.attr("kv_heads"), op.attr("row_bytes")
    for src, base in zip(cx.graph.sources(op.name), (op.attr("k_addr"), op.attr("v_addr"))):
        width = cx.row_bytes(src)
        chunk = q_len if cx.home(src)[0] == "onchip" else \
            max(1, min(q_len, cx.plan.slot_bytes("activation") // width))
        for b in range(w.batch):
            def chunk_of(j: int, b=b, src=src, base=base, chunk=chunk, width=width) -> None:
                t0 = j * chunk
                tc = min(chunk, q_len - t0)
                buf, addr, deps, done = cx.read(src, b * q_len + t0, tc)
                position = b * heads * op.attr("max_len") + w.step_context + t0
                recs = [cx.em.emit("ST", "STORE", deps=deps, buf=buf, dtype=op.output.dtype,
                                   sram_addr=addr, rows=heads, row_bytes=row,
                                   sram_stride_bytes=row, dram_addr=base + position * row,
                                   dram_stride_bytes=op.attr("max_len") * row)] if tc == 1 else \
                    _per_head_stores(cx, op, deps, buf, addr, tc, width, base + position * row)
                done(recs)
                cx.writers[op.name].extend(recs)
            # full chunks are alike but for addresses (source rows, cache positions: affine)
            repeat(cx, -(-q_len // chunk), 0, q_len // chunk, chunk_of,
                   lambda src=src: loop_state(cx, (op.name, src)))


def _per_head_stores(cx, op, deps, buf, addr, tokens, width, dram_addr):
    """Several tokens: one STORE per KV head (the cache is head-major, the source token-major),
    `tokens` rows of one head row each, source rows `width` apart, contiguous in the cache."""
    row, max_len = op.attr("row_bytes"), op.attr("max_len")
    return [cx.em.emit("ST", "STORE", deps=deps, buf=buf, dtype=op.output.dtype,
                       sram_addr=addr + h * row, rows=tokens, row_bytes=row,
                       sram_stride_bytes=width, dram_addr=dram_addr + h * max_len * row,
                       dram_stride_bytes=row)
            for h in range(op.attr("kv_heads"))]
