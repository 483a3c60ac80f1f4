"""Sparsify pass: mark which weights and attention ops run sparse (FlightLLM's sparse DSP chains).

graph.workload.sparsity:
  None / "dense"  no change;
  "N:M"           every linear layer's weight keeps N of every M along K (attrs sparsity=(N, M));
                  refused on a target none of whose units runs that pattern (check_supported);
                  the lm_head and the MoE router stay dense (their outputs are ranked or
                  sampled, and they are a small share of the weights); embeddings have no GEMM;
  "block"         refused with one line: which attention blocks are masked is not part of
                  the workload, and no unit model skips them, so the option would change
                  nothing (it was accepted and ignored until tests/invariants caught it).
The reference applies N:M by pruning (compiler.reference.sparsity.nm_prune) when the attr is
set.
"""
from __future__ import annotations

import re

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind

BLOCK_REFUSAL = ("--sparsity block is not modelled: the workload does not say which "
                 "attention blocks are masked and no unit skips them; use N:M (e.g. 2:4)")
DENSE_ROLES = ("lm_head", "router")
_NM = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_sparsity(text: str | None) -> tuple[int, int] | str | None:
    """None for dense, (n, m) for "N:M" with 1 <= N < M, or "block"; else CompilerError."""
    if text is None or text.strip().lower() in ("", "dense", "none"):
        return None
    if text.strip().lower() == "block":
        return "block"
    match = _NM.match(text)
    if match:
        n, m = int(match.group(1)), int(match.group(2))
        if 1 <= n < m:
            return n, m
    raise CompilerError(f"malformed --sparsity {text!r}: expected N:M with 1 <= N < M "
                        f"(e.g. 2:4) or 'block'")


def _mark(op: Op, mode: tuple[int, int]) -> Op:
    if op.kind == OpKind.MATMUL and op.attr("role") not in DENSE_ROLES:
        return op.with_attrs(sparsity=mode)
    return op


def check_supported(text: str, mode: tuple[int, int], target) -> None:
    """Refuse an N:M pattern no unit of `target` runs. A unit with sparse_modes "nm" groups
    sparse_m weights along K and keeps N' of them, N' in sparse_n_values: N:M is the same
    pattern when M divides sparse_m and N x sparse_m / M is one of those N' (2:4 = 8:16)."""
    units = [u for u in getattr(target, "units", {}).values()
             if "nm" in getattr(u, "sparse_modes", ())]
    if not units:
        raise CompilerError(f"--sparsity {text}: {target.name} has no unit that skips pruned "
                            f"weights (N:M runs on DSP chains with sparse_modes nm)")
    n, m = mode
    for unit in units:
        if unit.sparse_m % m == 0 and n * unit.sparse_m // m in unit.sparse_n_values:
            return
    allowed = sorted({(k, u.sparse_m) for u in units for k in u.sparse_n_values
                      if 0 < k < u.sparse_m})
    raise CompilerError(f"--sparsity {text}: {target.name} runs N:M sparsity as "
                        + ", ".join(f"{k}:{mm}" for k, mm in allowed)
                        + " (or an equal pattern with M dividing "
                        + ", ".join(sorted({str(u.sparse_m) for u in units})) + ", e.g. 2:4)")


def check_sparsity(text: str | None, target) -> None:
    """parse_sparsity, then check_supported for an N:M pattern (CompilerError either way;
    "block" is refused as in run)."""
    mode = parse_sparsity(text)
    if mode == "block":
        raise CompilerError(BLOCK_REFUSAL)
    if isinstance(mode, tuple):
        check_supported(text.strip(), mode, target)


def run(graph: Graph, target=None) -> Graph:
    """A new graph with the sparsity attrs of graph.workload.sparsity (see module doc).
    An N:M pattern no unit of the target runs is refused (check_supported; no target: not
    checked). An FPGA target with `mechanisms.sparse_dsp_chain` off cannot skip pruned
    weights, so its weights are stored and computed dense (FlightLLM's sparse-chain ablation)."""
    mode = parse_sparsity(graph.workload.sparsity)
    if mode == "block":
        raise CompilerError(BLOCK_REFUSAL)
    if isinstance(mode, tuple) and target is not None:
        check_supported(graph.workload.sparsity.strip(), mode, target)
    chains_off = not getattr(getattr(target, "mechanisms", None), "sparse_dsp_chain", True)
    if mode is None or chains_off:
        return graph.map_ops(lambda op: op)
    return graph.map_ops(lambda op: _mark(op, mode))
