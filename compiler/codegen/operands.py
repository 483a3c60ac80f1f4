"""Which rows and bytes of a source / output tensor a matrix tile touches."""
from __future__ import annotations

from compiler.ir.ops import OpKind


def act_window(cx, op, t, b, g0, m0, tm, k0, tk):
    """-> (row0, rows, col0 bytes, col bytes) of the activation source for one tile."""
    src = cx.graph.sources(op.name)[0]
    spec = cx.spec(src)
    width = cx.row_bytes(src)
    ebytes = spec.bits / 8
    if op.kind == OpKind.MATMUL:
        return _matmul_window(spec.shape[0], width, ebytes, t, m0, tm, g0, op.weight.shape[-2],
                              k0, tk)
    hpg = op.attr("heads") // op.attr("kv_heads")
    q_len, heads = op.attr("q_len"), op.attr("heads")
    tq0, tq = m0 // hpg, max(1, tm // hpg)
    if op.kind == OpKind.ATTN_SCORE:  # q: (tokens, heads x head_dim); the tile's tk dims
        col0 = int((g0 * hpg * op.attr("head_dim") + k0) * ebytes)
        cols = int(t["g_per"] * hpg * tk * ebytes)
        return b * q_len + tq0, tq, col0, min(cols, width - col0)
    # context: probabilities (tokens x heads, kv length): g_per groups of tq x hpg rows
    row0 = (b * q_len + tq0) * heads + g0 * hpg
    return row0, min(tq * hpg * t["g_per"], spec.shape[0] - row0), int(k0 * ebytes), \
        int(tk * ebytes)


def out_window(cx, op, t, b, g0, m0, tm, n0, tn):
    """-> (row0, rows, col0 bytes, col bytes) of the op's output for one tile."""
    spec = op.output
    width = cx.row_bytes(op.name)
    ebytes = spec.bits / 8
    if op.kind == OpKind.MATMUL:
        return _matmul_window(spec.shape[0], width, ebytes, t, m0, tm, g0, op.weight.shape[-1],
                              n0, tn)
    hpg = op.attr("heads") // op.attr("kv_heads")
    q_len, heads = op.attr("q_len"), op.attr("heads")
    tq0, tq = m0 // hpg, max(1, tm // hpg)
    if op.kind == OpKind.ATTN_SCORE:  # scores: (tokens x heads, kv length)
        row0 = (b * q_len + tq0) * heads + g0 * hpg
        return row0, min(tq * hpg * t["g_per"], spec.shape[0] - row0), int(n0 * ebytes), \
            int(tn * ebytes)
    # context output (tokens, heads x head_dim): the tile's tn columns of g_per groups
    col0 = int((g0 * hpg * op.attr("head_dim") + n0) * ebytes)
    cols = int(t["g_per"] * hpg * tn * ebytes)
    return b * q_len + tq0, tq, col0, min(cols, width - col0)


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
