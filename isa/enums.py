"""Closed enumerations shared by every instruction format: queues, data types, sparse modes."""
from enum import IntEnum


class Queue(IntEnum):
    """Decoupled in-order instruction queues (FlightLLM / VTA style)."""

    LD = 0   # off-chip -> on-chip loads
    ST = 1   # on-chip -> off-chip stores
    MM = 2   # matrix unit: systolic array or DSP chains in MM mode
    MV = 3   # GEMV: vector unit, DSP chains in MV mode, or PIM banks
    VEC = 4  # elementwise, reductions, softmax, norms, RoPE, activations
    SYS = 5  # synchronisation and control


class Dtype(IntEnum):
    """Element types; `bits` gives the storage width."""

    INT8 = 0
    INT4 = 1
    INT2 = 2
    INT3 = 3
    INT16 = 4
    INT32 = 5
    FP16 = 6
    BF16 = 7
    FP32 = 8
    FP8 = 9

    @property
    def bits(self) -> int:
        return _DTYPE_BITS[self]

    @property
    def label(self) -> str:
        return self.name.lower()


_DTYPE_BITS = {
    Dtype.INT8: 8, Dtype.INT4: 4, Dtype.INT2: 2, Dtype.INT3: 3, Dtype.INT16: 16,
    Dtype.INT32: 32, Dtype.FP16: 16, Dtype.BF16: 16, Dtype.FP32: 32, Dtype.FP8: 8,
}

DTYPE_NAMES = tuple(d.label for d in Dtype)


class SparseMode(IntEnum):
    """How the weight operand of a MATMUL / GEMV is stored."""

    DENSE = 0
    NM = 1     # N of every M weights kept (sparse_n, sparse_m)
    BLOCK = 2  # block-sparse: sparse_n of every sparse_m blocks kept


def dtype_from_label(label: str) -> Dtype:
    """`'int8'` -> Dtype.INT8; raises KeyError for an unknown label."""
    return Dtype[label.upper()]
