"""N:M structured pruning of weights, as the sparse DSP chains (FlightLLM) and sparse tensor cores
store them: of every M consecutive weights along the reduction axis K, the N largest in magnitude
are kept and the rest set to zero."""
from __future__ import annotations

import numpy as np


def nm_prune(weights: np.ndarray, n: int, m: int, axis: int = -2) -> np.ndarray:
    """A copy of `weights` keeping the n largest-|w| of every m consecutive entries along `axis`.

    weights: any shape; `axis` is the reduction axis K (-2 for (K, N) and (E, K, N) weights).
    Ties in magnitude keep the entry with the lower index along K. When K is not a multiple of
    m, the last, shorter group of r entries keeps min(n, r). Same dtype as the input.
    """
    if not 1 <= n <= m:
        raise ValueError(f"N:M pruning needs 1 <= n <= m, not {n}:{m}")
    w = np.moveaxis(np.asarray(weights), axis, -1)
    k = w.shape[-1]
    pad = -k % m
    mag = np.abs(w).astype(np.float64)
    # padded slots get magnitude -1 so a short last group never keeps them
    mag = np.concatenate([mag, np.full(w.shape[:-1] + (pad,), -1.0)], axis=-1)
    groups = mag.reshape(w.shape[:-1] + ((k + pad) // m, m))
    order = np.argsort(-groups, axis=-1, kind="stable")[..., :n]
    keep = np.zeros(groups.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    keep = keep.reshape(w.shape[:-1] + (k + pad,))[..., :k]
    return np.moveaxis(np.where(keep, w, np.zeros_like(w)), -1, axis)
