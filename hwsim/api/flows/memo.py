"""The memo scope `hwsim papers` runs in (run_model.step_memo): while a step_memo() block is
open, results that are pure functions of their key are computed once and shared. Every key
holds everything the result depends on (a target by its fingerprint, which covers every
`--set` override), so a memoised number is the number a fresh run gives."""
from __future__ import annotations

from contextlib import contextmanager

_STEPS: list = []  # the memos of the open step_memo() blocks (innermost last)


@contextmanager
def step_memo():
    """Within the block, a step compiled and simulated once (same model, workload, target
    fingerprint and interleaving) is not compiled again: its result dict is shared (read it,
    do not change it); likewise a mobile target's NPU GEMM kernel costs (mobile_costs). `hwsim
    papers` runs inside one: the NeuPIMs claims simulate the 1- and 2-layer slices that
    interleaving_pays has just simulated to choose the interleaving, and the mllm-NPU sweep
    meets the same GEMM shapes in every model's runs. Compile and simulation are
    deterministic, so every number is the one a fresh run gives."""
    _STEPS.append({})
    try:
        yield
    finally:
        _STEPS.pop()


def open_memo() -> dict | None:
    """The innermost open step_memo() block's dict, or None outside one."""
    return _STEPS[-1] if _STEPS else None


def memoised(key, make):
    """make(), shared under key() inside a step_memo() block; outside one, make() with no key
    worked out (key() may cost a fingerprint)."""
    memo = open_memo()
    if memo is None:
        return make()
    k = key()
    if k not in memo:
        memo[k] = make()
    return memo[k]
