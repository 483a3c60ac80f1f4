"""Stimulus helpers shared by the RTL unit definitions."""
from __future__ import annotations

import numpy as np

INT8_MIN, INT8_MAX = -128, 127

def _int8(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(INT8_MIN, INT8_MAX + 1, size=shape, dtype=np.int64)


def _stream(jobs: list[dict], idle: dict, capture: list[str]) -> dict:
    return {"idle": idle, "reset": "rst", "out_valid": "out_valid", "capture": capture,
            "jobs": jobs}
