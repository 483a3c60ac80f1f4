"""How a MATMUL op's activation rows meet its weight, for every role, in both executors.

Every MATMUL reduces to a grouped GEMM: rows X (R, K), an optional group per row, and a weight
(K, N) or (G, K, N), so row r is X[r] @ W[group[r]]:
  plain linear:       X = input (T, K), one group;
  lm_head:            X = input rows b * q_len + q_len - 1 (last token of each sequence);
  MoE expert_gate/up: X = input row t repeated top_k times (row t * top_k + j),
                      group = expert chosen j-th for token t;
  MoE expert_down:    X = input (T * top_k, K) in that order, same groups; the rows are then
                      combined: out[t] = sum_j routing_weight[t, j] * Y[t * top_k + j];
  MLA q_absorb / v_absorb (weight (heads, K, N)): X row t * heads + h = the first K columns of
                      head h's slice of input row t, group = h; Y is reshaped to (T, heads * N).
"""
from __future__ import annotations

import numpy as np

from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind


def activation_source(graph: Graph, op: Op) -> str:
    """The MATMUL's activation input (not the MoE router it may also read)."""
    names = [s for s in graph.sources(op.name) if graph.op(s).kind != OpKind.MOE_ROUTER]
    if len(names) != 1:
        raise ValueError(f"{op.name} should read one activation, reads {names}")
    return names[0]


def router_source(graph: Graph, op: Op) -> str | None:
    names = [s for s in graph.sources(op.name) if graph.op(s).kind == OpKind.MOE_ROUTER]
    return names[0] if names else None


def is_per_head(op: Op) -> bool:
    """MLA absorbed weights: (heads, K, N) without experts."""
    return len(op.weight.shape) == 3 and not op.attr("experts")


def gather_rows(op: Op, x: np.ndarray, experts: np.ndarray | None, batch: int, q_len: int
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """(X (R, K), groups (R,) int or None) for the op's grouped GEMM; see the module doc."""
    if op.attr("role") == "lm_head":
        return x[np.arange(batch) * q_len + q_len - 1], None
    if op.attr("experts"):
        k = op.attr("top_k")
        rows = x if op.attr("role") == "expert_down" else np.repeat(x, k, axis=0)
        return rows, experts.reshape(-1).astype(np.int64)
    if is_per_head(op):
        heads, k_in = op.weight.shape[0], op.weight.shape[1]
        t = x.shape[0]
        rows = x.reshape(t, heads, -1)[:, :, :k_in].reshape(t * heads, k_in)
        return rows, np.tile(np.arange(heads), t)
    return x, None


def grouped_matmul(x: np.ndarray, groups: np.ndarray | None, w: np.ndarray) -> np.ndarray:
    """Row r of the result is x[r] @ w[groups[r]] (or x @ w for a 2-D w), in x's dtype
    arithmetic (float32 BLAS, or exact int64 for integer operands)."""
    if groups is None:
        return x @ w
    out = np.zeros((x.shape[0], w.shape[-1]), dtype=np.result_type(x, w))
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = x[rows] @ w[g]
    return out


def scatter_rows(op: Op, y: np.ndarray, routing: np.ndarray | None) -> np.ndarray:
    """The op's output from its GEMM rows: combine experts (float32) or join heads."""
    if op.attr("role") == "expert_down":
        k = op.attr("top_k")
        y3 = y.reshape(-1, k, y.shape[-1]).astype(np.float32)
        out = y3[:, 0] * routing[:, 0:1]
        for j in range(1, k):
            out = out + y3[:, j] * routing[:, j:j + 1]
        return out
    if is_per_head(op):
        heads = op.weight.shape[0]
        return y.reshape(-1, heads * y.shape[-1])
    return y
