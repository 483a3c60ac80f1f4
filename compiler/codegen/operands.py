"""Which rows and bytes of a source / output tensor a matrix tile touches."""
from __future__ import annotations

from compiler.ir.ops import OpKind


def act_window(cx, op, t, b, g0, m0, tm, k0, tk):
    """-> (row0, rows, col0 bytes, col bytes) of the activation source for one tile."""
    src = cx.graph.sources(op.name)[0]
    spec = cx.spec(src)
    # attention: q (tokens, heads x head_dim) for the scores, probabilities (tokens x heads,
    # kv length) for the context
    return _window(op, spec.shape[0], cx.row_bytes(src), spec.bits / 8, t, b, g0, m0, tm,
                   op.weight.shape[-2] if op.kind == OpKind.MATMUL else 0, k0, tk,
                   op.kind == OpKind.ATTN_SCORE)


def out_window(cx, op, t, b, g0, m0, tm, n0, tn):
    """-> (row0, rows, col0 bytes, col bytes) of the op's output for one tile."""
    spec = op.output
    # attention: scores (tokens x heads, kv length), context (tokens, heads x head_dim)
    return _window(op, spec.shape[0], cx.row_bytes(op.name), spec.bits / 8, t, b, g0, m0, tm,
                   op.weight.shape[-1] if op.kind == OpKind.MATMUL else 0, n0, tn,
                   op.kind != OpKind.ATTN_SCORE)


def _window(op, total_rows, width, ebytes, t, b, g0, m0, tm, per_group, c0, tc, head_cols):
    """A tile's window of one operand, columns c0 .. c0 + tc. Attention operands are either
    `head_cols` (tokens, heads x head_dim): the tile's tc dims of g_per groups; or (tokens x
    heads, kv length): g_per groups of tq x hpg rows."""
    if op.kind == OpKind.MATMUL:
        return _matmul_window(total_rows, width, ebytes, t, m0, tm, g0, per_group, c0, tc)
    hpg = op.attr("heads") // op.attr("kv_heads")
    q_len, heads = op.attr("q_len"), op.attr("heads")
    tq0, tq = m0 // hpg, max(1, tm // hpg)
    if head_cols:
        col0 = int((g0 * hpg * op.attr("head_dim") + c0) * ebytes)
        cols = int(t["g_per"] * hpg * tc * ebytes)
        return b * q_len + tq0, tq, col0, min(cols, width - col0)
    row0 = (b * q_len + tq0) * heads + g0 * hpg
    return row0, min(tq * hpg * t["g_per"], total_rows - row0), int(c0 * ebytes), \
        int(tc * ebytes)


def _matmul_window(total_rows, width, ebytes, t, m0, tm, g0, per_group, c0, tc):
    """Rows m0.. (MoE rows wrap onto the tokens) and columns c0.. of a (per-head) matmul
    operand whose groups are `per_group` elements wide."""
    rows = min(tm, total_rows)
    row0 = min(m0 % total_rows, total_rows - rows)
    grouped = t["groups"] > 1
    col0 = int(((g0 * per_group if grouped else 0) + c0) * ebytes)
    cols = int(tc * (t["g_per"] if grouped else 1) * ebytes)
    col0 = min(col0, width - 1)
    return row0, rows, col0, max(1, min(cols, width - col0))


def kv_addr(op, b: int, g0: int, token0: int) -> int:
    """Off-chip address of (sequence b, KV group g0, position token0) in the head-major cache."""
    return op.attr("kv_addr") + ((b * op.attr("kv_heads") + g0) * op.attr("max_len") + token0) \
        * op.attr("kv_row_bytes")
