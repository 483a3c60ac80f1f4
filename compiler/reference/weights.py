"""Deterministic, seeded float32 weights for every op of a graph that has a parameter.

Each op's arrays come from numpy's default_rng seeded by (seed, sha256(op name)), so adding,
removing or reordering ops never changes another op's weights. Scales keep activations O(1):

| op kind    | weight shape         | values                                         |
|------------|----------------------|------------------------------------------------|
| EMBEDDING  | (rows, hidden)       | normal(0, 1)                                   |
| MATMUL     | (K, N) or (G, K, N)  | normal(0, 1) / sqrt(K); G = experts or heads   |
| MATMUL bias| (N,)                 | normal(0, 0.1)  (only when attrs bias is true)  |
| RMSNORM    | (W,)                 | 1 + normal(0, 0.1); gemma: normal(0, 0.1) (used as 1 + w) |
| LAYERNORM  | (2, W)               | row 0 gamma 1 + normal(0, 0.1), row 1 beta normal(0, 0.1) |

A tied lm_head (attrs tied) returns the embedding table transposed, (hidden, vocab).
"""
from __future__ import annotations

import hashlib

import numpy as np

from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.reference.sparsity import nm_prune

BIAS_STD = 0.1
NORM_STD = 0.1


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """default_rng over (seed, 64-bit digests of names): independent streams per name."""
    words = [int(seed)]
    for name in names:
        words.append(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little"))
    return np.random.default_rng(np.random.SeedSequence(words))


def gemma_norm(model) -> bool:
    """Gemma stores RMS-norm weights as offsets from 1: the norm applies (1 + w)."""
    return model.family.startswith("gemma")


class WeightStore:
    """weight(name) / bias(name) / matmul_weight(op) for the ops of one graph; cached."""

    def __init__(self, graph: Graph, seed: int = 0) -> None:
        self.graph, self.seed = graph, seed
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def weight(self, name: str) -> np.ndarray:
        """The op's stored parameter, float32, shaped as op.weight.shape."""
        op = self.graph.op(name)
        if op.weight is None:
            raise KeyError(f"op {name} has no weight")
        if op.kind == OpKind.MATMUL and op.attr("tied"):
            embed = next(o for o in self.graph.ops() if o.kind == OpKind.EMBEDDING
                         and o.weight.shape[::-1] == op.weight.shape)
            return self.weight(embed.name).T
        key = (name, "weight")
        if key not in self._cache:
            self._cache[key] = self._make_weight(op)
        return self._cache[key]

    def bias(self, name: str) -> np.ndarray | None:
        """The (N,) bias of a MATMUL with attrs bias true, else None."""
        op = self.graph.op(name)
        if op.kind != OpKind.MATMUL or not op.attr("bias"):
            return None
        key = (name, "bias")
        if key not in self._cache:
            rng = rng_for(self.seed, name, "bias")
            n = op.weight.shape[-1]
            self._cache[key] = (rng.standard_normal(n) * BIAS_STD).astype(np.float32)
        return self._cache[key]

    def matmul_weight(self, op: Op) -> np.ndarray:
        """The weight a MATMUL multiplies by: N:M-pruned along K when attrs sparsity is set."""
        w = self.weight(op.name)
        sparsity = op.attr("sparsity")
        if sparsity:
            n, m = sparsity
            w = nm_prune(w, n, m, axis=-2)
        return w

    def _make_weight(self, op: Op) -> np.ndarray:
        rng = rng_for(self.seed, op.name, "weight")
        shape = op.weight.shape
        if op.kind == OpKind.EMBEDDING:
            w = rng.standard_normal(shape)
        elif op.kind == OpKind.MATMUL:
            w = rng.standard_normal(shape) / np.sqrt(shape[-2])
        elif op.kind == OpKind.RMSNORM:
            w = rng.standard_normal(shape) * NORM_STD
            if not gemma_norm(self.graph.model):
                w = w + 1.0
        elif op.kind == OpKind.LAYERNORM:
            w = rng.standard_normal(shape) * NORM_STD
            w[0] += 1.0
        else:
            raise KeyError(f"no weight recipe for {op.kind.value} op {op.name}")
        return w.astype(np.float32)
