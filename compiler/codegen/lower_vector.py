"""Lower elementwise, normalisation, softmax, RoPE and routing ops to VEC instructions, one per
row tile; norm parameters are loaded once per op into an activation slot."""
from __future__ import annotations

import math

from compiler.codegen.repeat import loop_state, repeat
from compiler.ir.ops import OpKind

BINARY = (OpKind.ADD, OpKind.MUL)


def lower_vector(cx, op) -> None:
    sources = cx.graph.sources(op.name)
    war = cx.begin_tensor(op.name)
    rows_total = op.output.shape[0]
    cols = op.output.elements // rows_total
    params = _load_params(cx, op)
    tile = op.attr("tiles")["rows"]
    reads_from = sources[:2 if op.kind in BINARY else 1]

    def row_tile(j: int) -> None:
        r0 = j * tile
        rows = min(tile, rows_total - r0)
        reads = [cx.read(s, min(r0, cx.spec(s).shape[0] - 1),
                         min(rows, cx.spec(s).shape[0] - min(r0, cx.spec(s).shape[0] - 1)))
                 for s in reads_from]
        src1 = reads[1][:2] if len(reads) > 1 else (params[:2] if params else (0, 0))
        deps = [d for r in reads for d in r[2]] + (params[2] if params else [])
        d_buf, d_addr, d_deps, commit = cx.output_target(op.name, r0, rows)
        rec = cx.em.emit("VEC", op.attr("opcode"), deps=[*deps, *war, *d_deps],
                         note=cx.note(op.name, row0=r0),
                         dtype_in=op.inputs[0].dtype if op.inputs else op.output.dtype,
                         dtype_out=op.output.dtype, rows=rows,
                         cols=_own_cols(cx, op, r0, rows, cols),
                         src0_buf=reads[0][0], src0_addr=reads[0][1],
                         src1_buf=src1[0], src1_addr=src1[1], dst_buf=d_buf, dst_addr=d_addr,
                         count=1, **_immediates(op, r0))
        for r in reads:
            r[3]([rec])
        if params:
            params[3]([rec])
        commit(rec)

    # full row tiles are alike but for addresses, unless a field other than an address
    # moves with the row (RoPE's first position, per-sequence softmax lengths) or a source
    # with fewer rows is read clamped
    alike = op.kind != OpKind.ROPE and not (op.kind == OpKind.SOFTMAX and
                                            cx.graph.workload.contexts) and \
        all(cx.spec(s).shape[0] >= rows_total for s in reads_from)
    repeat(cx, -(-rows_total // tile), 0, rows_total // tile if alike else 0, row_tile,
           lambda: loop_state(cx, (op.name, *reads_from)))


def _own_cols(cx, op, r0: int, rows: int, cols: int) -> int:
    """Softmax over a decode batch with per-sequence lengths (Workload.contexts): a tile of
    score rows (sequence-major, heads rows each) spans its sequences' mean length + 1, so the
    tiles together cover each sequence's own tokens (timing; values are not computed here)."""
    contexts = cx.graph.workload.contexts
    if op.kind != OpKind.SOFTMAX or not contexts or op.output.shape[0] % len(contexts):
        return cols
    heads = op.output.shape[0] // len(contexts)
    own = [contexts[r // heads] + 1 for r in range(r0, r0 + rows)]
    return min(cols, -(-sum(own) // rows))


def _load_params(cx, op):
    """Norm gamma (and beta): (buf, addr, [load], finish) or None."""
    if op.weight is None or op.kind not in (OpKind.RMSNORM, OpKind.LAYERNORM):
        return None
    index, region, prev = cx.slot_for("activation")
    ld = cx.em.emit("LD", "LOAD", deps=prev, buf=region.buffer_id, dtype=op.weight.dtype,
                    sram_addr=region.offset, dram_addr=op.attr("weight_addr"), rows=1,
                    row_bytes=op.weight.nbytes)
    return region.buffer_id, region.offset, [ld], lambda recs: cx.read_by("activation", index,
                                                                         *recs)


def _immediates(op, r0: int) -> dict:
    if op.kind == OpKind.ROPE:  # first position and rotated dims
        return {"imm": op.attr("context", 0) + r0, "shift": min(255, op.attr("rotary_dims"))}
    if op.kind in (OpKind.RMSNORM, OpKind.LAYERNORM):  # epsilon as -log2
        return {"imm": int(round(-math.log2(op.attr("eps")))), "shift": 0}
    if op.kind == OpKind.MOE_ROUTER:
        return {"imm": op.attr("top_k"), "shift": 0}
    return {}
