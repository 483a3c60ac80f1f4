"""TensorSpec: shape, dtype and layout of one tensor (no data)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from isa import DTYPE_NAMES, Dtype


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str = "fp16"
    layout: str = "row_major"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_NAMES:
            raise ValueError(f"unknown dtype {self.dtype!r}")
        if any(d <= 0 for d in self.shape):
            raise ValueError(f"impossible shape {self.shape}: every dimension must be >= 1")

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def bits(self) -> int:
        return _BITS[self.dtype]

    @property
    def nbytes(self) -> int:
        """Storage bytes, packed: ceil(elements x bits / 8)."""
        return -(-self.elements * self.bits // 8)

    def with_dtype(self, dtype: str) -> TensorSpec:
        if dtype not in _BITS:  # the one check __post_init__ would make on the copy
            raise ValueError(f"unknown dtype {dtype!r}")
        new = object.__new__(TensorSpec)
        new.__dict__.update(self.__dict__)
        new.__dict__["dtype"] = dtype
        return new


_BITS = {name: Dtype[name.upper()].bits for name in DTYPE_NAMES}
