"""The compiler's Workload from an object with the workload fields as attributes (parsed CLI
flags, a sweep point's fields)."""
from __future__ import annotations

from compiler.ir.workload import Workload

FIELDS = ("phase", "batch", "seq", "context", "gen", "quant", "kv_bits", "sparsity", "layers")


def workload_from_args(args) -> Workload:
    return Workload(**{name: getattr(args, name) for name in FIELDS})
