"""The one check that a compact program stands for a flat compile: equal instructions and
metadata after flatten(), and equal engine arrays column by column (dtypes included)."""
from __future__ import annotations

import numpy as np

from hwsim.program_arrays import flatten


def same_program(compact, flat) -> None:
    again = compact.flatten()
    assert again.streams == flat.streams and again.metadata == flat.metadata
    a, b = flatten(compact), flatten(flat)
    for name in b.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if name == "fields":
            assert all(np.array_equal(x[c], y[c]) for c in y), name
        elif isinstance(y, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), name
        else:
            assert x == y, name
