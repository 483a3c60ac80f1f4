"""`hwsim fit`: the largest batch at a context and the longest context at a batch that fit the
target's main memory, with the bytes by kind.

A run of batch B at context C is what a serving engine admits: each of the B sequences keeps a
KV cache of C positions for the whole run (the engine reserves a sequence's whole context, as
HF's static cache and vLLM's admission by max length do), its prompt of C - gen tokens is
prefilled in one step over the whole batch, and then one token per sequence is decoded per step
until the cache is full. Both steps are lowered as for `hwsim compile` and laid out by the
compiler's allocator (compiler/passes/allocate.py: weights, KV cache, the spilled-activation
pool reused by liveness, the workspace); the run fits when the larger of the two fits. Fitting
only shrinks as B or C grows, so each bound is found by a search (Fitter.largest).
"""
from __future__ import annotations

from dataclasses import replace

from hwsim.errors import HwsimError

SEARCH_LIMIT = 1 << 24  # batches and contexts beyond 16 M are reported as this bound


class Fitter:
    """Memory use of (batch, context) runs of one model on one target, cached."""

    def __init__(self, model, workload, target) -> None:
        from compiler.pipeline import resolve_workload
        self.model, self.target = model, target
        self.workload = resolve_workload(workload, target)
        self.gen = workload.gen
        self.capacity_bytes = target.memories[target.main_memory].capacity_bytes
        self._cache: dict = {}
        self.evaluated: set = set()

    def use(self, batch: int, context: int):
        """(MemoryUse, phase, graph) of the larger step of a (batch, context) run."""
        key = (batch, context)
        if key not in self._cache:
            steps = [self._step("prefill", batch, context), self._step("decode", batch, context)]
            self._cache[key] = max(steps, key=lambda s: s[0].total_bytes)
        return self._cache[key]

    def total(self, batch: int, context: int) -> int:
        return self.use(batch, context)[0].total_bytes

    def fits(self, batch: int, context: int) -> bool:
        self.evaluated.add((batch, context))
        return self.total(batch, context) <= self.capacity_bytes

    def _step(self, phase: str, batch: int, context: int):
        from compiler.ir.builder import build_graph
        from compiler.passes import allocate
        from compiler.pipeline import PASSES
        w = replace(self.workload, phase=phase, batch=batch, kv_capacity=context,
                    seq=context - self.gen, context=context - 1 if phase == "decode" else 0)
        graph = build_graph(self.model, w)
        for step in PASSES[:PASSES.index(allocate)]:
            graph = step.run(graph, self.target)
        return allocate.footprint(graph, self.target), phase, graph

    def largest(self, fits, low: int, use_of) -> int:
        """The largest n >= low with fits(n) (fits shrinks as n grows), or low - 1 when none.
        Memory use grows about linearly in n, so the search starts where the line through
        use_of(low) and use_of(low + 1) meets the capacity, gallops away from there until the
        answer is bracketed, then bisects (a handful of lowerings instead of ~2 log2 n)."""
        if not fits(low):
            return low - 1
        slope = use_of(low + 1) - use_of(low)
        guess = low if slope <= 0 else low + int((self.capacity_bytes - use_of(low)) // slope)
        guess = max(low, min(guess, SEARCH_LIMIT))
        if fits(guess):
            good, bad, step = guess, None, 1
            while bad is None and good < SEARCH_LIMIT:
                n = min(good + step, SEARCH_LIMIT)
                good, bad, step = (n, None, 2 * step) if fits(n) else (good, n, step)
            if bad is None:
                return good
        else:
            bad, good, step = guess, None, 1
            while good is None:
                n = max(bad - step, low)
                good, bad, step = (n, bad, step) if fits(n) else (None, n, 2 * step)
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if fits(mid) else (good, mid)
        return good


def fit_report(model, workload, target, batch: int | None, context: int | None) -> dict:
    """The fit record's fields (see hwsim.api.fit)."""
    f = Fitter(model, workload, target)
    min_context = f.gen + 1
    if context is not None and context < min_context:
        raise HwsimError(f"--context {context} must exceed --gen {f.gen} (the prompt is "
                         f"context - gen tokens)")
    if batch is None and context is None:
        batch = 1
    def longest(b: int) -> int:  # 0 when not even a one-token prompt fits
        n = f.largest(lambda c: f.fits(b, c), min_context, lambda c: f.total(b, c))
        return n if n >= min_context else 0

    def most(c: int) -> int:
        return f.largest(lambda b: f.fits(b, c), 1, lambda b: f.total(b, c))

    max_context = longest(batch) if batch else None
    max_batch = most(context) if context else None
    point = (batch or max(max_batch, 1), context or max(max_context, min_context))
    if max_batch is None:
        max_batch = most(point[1])
    if max_context is None:
        max_context = longest(point[0])
    use, phase, graph = f.use(*point)
    if use.total_bytes > f.capacity_bytes:
        from compiler.passes.allocate import refusal
        raise HwsimError(f"{refusal(graph, target, use)} at batch {point[0]}, context "
                         f"{point[1]} ({phase}); the largest batch at context {point[1]} is "
                         f"{max_batch}, the longest context at batch {point[0]} is "
                         f"{max_context}")
    return {"model": model.name, "quant": f.workload.quant, "kv_bits": f.workload.kv_bits,
            "gen_tokens": f.gen, "batch": point[0], "context_tokens": point[1],
            "prompt_tokens": point[1] - f.gen, "limiting_phase": phase,
            "capacity_bytes": int(f.capacity_bytes), "memory": target.main_memory,
            "weight_bytes": use.weight_bytes, "kv_bytes": use.kv_bytes,
            "activation_bytes": use.activation_bytes, "workspace_bytes": use.workspace_bytes,
            "total_bytes": use.total_bytes, "max_batch": max_batch,
            "max_context_tokens": max_context}
