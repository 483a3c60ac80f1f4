"""Derived figures of a target (computed from its fields, never stored in YAML)."""
from __future__ import annotations

from isa import DTYPE_NAMES
from targets.target import Target


def unit_dtypes(target: Target, unit_name: str) -> list[str]:
    """Dtypes the unit has a nonzero throughput for, in isa.Dtype order."""
    return [d for d in DTYPE_NAMES if target.peak_macs_per_s(unit_name, d) > 0]


def derived_figures(target: Target) -> dict:
    """Peak MAC/s per unit and dtype, on-chip bytes, main-memory bandwidth, fingerprint."""
    main = target.memories[target.main_memory]
    return {
        "fingerprint": target.fingerprint().hex(),
        "peak_macs_per_s": {u: {d: target.peak_macs_per_s(u, d) for d in unit_dtypes(target, u)}
                            for u in target.units},
        "onchip_bytes": sum(b.size_bytes for b in target.buffers.values()),
        "main_memory_bandwidth_bytes_per_s": main.bandwidth_bytes_per_s,
        "main_memory_capacity_bytes": main.capacity_bytes,
        "isa_units_per_queue": {q: target.units_for_queue(q) for q in ("MM", "MV", "VEC")},
    }


def best_peak(target: Target) -> tuple[float, str]:
    """(largest total MAC/s over dtypes, that dtype), summing every unit that supports it."""
    totals = {d: sum(target.peak_macs_per_s(u, d) for u in target.units) for d in DTYPE_NAMES}
    dtype = max(totals, key=lambda d: (totals[d], -DTYPE_NAMES.index(d)))
    return totals[dtype], dtype
