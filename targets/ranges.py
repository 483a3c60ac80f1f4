"""Physical plausibility ranges: every number in a target description lies in a stated range.

The type annotations say what a field is (an integer, a positive real); this table says what
values a real machine can have, so a 1e30 Hz clock, an infinite bandwidth or 50 million memory
channels is refused at load time with one line naming the field, the value and the range,
instead of overflowing, dividing by zero or allocating gigabytes in the simulator.

A field's range is found by its name in FIELD_RANGES, else by the unit suffix of its name in
SUFFIX_RANGES (longest suffix first). The ranges are generous (a decade or more beyond any
machine built so far) and inclusive; the least values are loose where hand-checked tests use
toy machines (1 B/s, no latency). docs/targets.md lists them, and a test checks that every
numeric field of the schema has one and that the table and the docs agree.
"""
from __future__ import annotations

import math

# name -> (least, greatest, unit or kind); integers are counts of the named things
FIELD_RANGES: dict[str, tuple[float, float, str]] = {
    "freq_hz": (1e6, 1e10, "Hz"),
    "count": (1, 65536, "units"),
    "rows": (1, 16384, "processing elements"),
    "cols": (1, 16384, "processing elements"),
    "lanes": (1, 65536, "lanes"),
    "cores": (1, 4096, "cores"),
    "chains_per_core": (1, 4096, "chains"),
    "mv_chains_per_core": (1, 4096, "chains"),
    "dsps_per_chain": (1, 4096, "DSPs"),
    "dsps_per_group": (1, 4096, "DSPs"),
    "sparse_m": (1, 1024, "weights per group"),
    "sparse_n_values": (0, 1024, "weights per group"),
    "multipliers_per_bank": (1, 1024, "multipliers"),
    # 1e-9: an ablation that switches the GPU's dequantization cost off (tests/hwsim)
    "dequant_instructions_per_weight": (1e-9, 64, "instructions per weight"),
    # f16 -> fp32: read 2 B + write 4 B; fp32 -> fp64 would be 12 (targets/gpu_runtime.py)
    "conversion_bytes_per_weight": (0, 32, "B per weight"),
    "conversion_batch_tokens": (1, 2**20, "tokens"),
    "gemm_cta_tile_rows": (1, 4096, "rows"),
    # runtime.awq_gemm: one CUDA kernel's structure (targets/gpu_runtime.py AwqGemmKernel)
    "cta_tile_rows": (1, 4096, "rows"),
    "cta_tile_cols": (1, 4096, "columns"),
    "k_step_inputs": (1, 4096, "input channels"),
    "warps_per_cta": (1, 32, "warps"),
    "split_k_slices": (1, 1024, "slices"),
    "loop_warp_instructions_per_k_step": (1, 1e5, "warp instructions"),
    "cta_warp_instructions": (0, 1e6, "warp instructions"),
    "registers_per_thread": (1, 255, "registers"),
    "sm_registers": (1, 2**20, "registers"),
    "warp_register_granule": (1, 2**16, "registers"),
    "sm_max_ctas": (1, 1024, "CTAs"),
    "sm_max_warps": (1, 1024, "warps"),
    "gemm_cta_tile_cols": (1, 4096, "columns"),
    "gemm_cta_row_granule_rows": (1, 4096, "rows"),
    "size_bytes": (1, 2**36, "B"),
    "ports": (1, 1024, "ports"),
    "banks": (1, 65536, "banks"),
    "width_bytes": (1, 2**20, "B"),
    "burst_length": (1, 1024, "beats"),
    "capacity_bytes": (1, 2**50, "B"),
    "channels": (1, 4096, "channels"),
    "connected_channels": (1, 4096, "channels"),
    "banks_per_channel": (1, 1024, "banks"),
    "ranks_per_channel": (1, 64, "ranks"),
    "row_bytes": (16, 2**20, "B"),
    "burst_bytes": (1, 4096, "B"),
    "channel_interleave_bytes": (1, 2**30, "B"),
    "tck_s": (1e-11, 1e-6, "s"),
    "kernel_launch_s": (0, 1, "s"),
    "npu_graph_execute_overhead_s": (0, 1, "s"),
    "mean_weight_bits": (2, 8, "bits"),
    "sub_batch_min_batch": (1, 2**20, "sequences"),
    "price_usd": (1, 1e7, "USD"),
}
SUFFIX_RANGES: dict[str, tuple[float, float, str]] = {
    "_bytes_per_s": (1, 1e14, "B/s"),
    "_flops_per_s": (1e6, 1e17, "FLOP/s"),
    "_per_cycle": (1e-4, 4096, "per cycle"),
    "_pj_per_byte": (1e-4, 1e5, "pJ/B"),
    "_fraction": (0, 1, ""),
    "_tokens": (1, 2**24, "tokens"),
    "_cycles": (0, 1e6, "cycles"),
    "_pj": (0, 1e6, "pJ"),
    "_hz": (1e6, 1e10, "Hz"),
    "_bytes": (0, 2**50, "B"),
    "_w": (0, 1e5, "W"),
    "_s": (0, 10, "s"),
}
MAX_DRAM_BANKS = 2**20  # channels x ranks x banks: the bank model keeps state per bank


def range_of(field: str) -> tuple[float, float, str] | None:
    """(least, greatest, unit) of a field name, or None when the table has no entry."""
    if field in FIELD_RANGES:
        return FIELD_RANGES[field]
    for suffix in sorted(SUFFIX_RANGES, key=len, reverse=True):
        if field.endswith(suffix):
            return SUFFIX_RANGES[suffix]
    return None


def check_number(field: str, value) -> None:
    """ValueError naming the field, the value and its range when `value` is not finite or lies
    outside it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    span = range_of(field)
    if span is None:
        raise ValueError(f"{field} has no plausibility range (targets/ranges.py)")
    low, high, unit = span
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        raise ValueError(f"{field} = {show_number(value)} is outside the plausible range "
                         f"[{show_number(low)}, {show_number(high)}]{' ' + unit if unit else ''}")


def check_part(part) -> None:
    """Check every number of a part: plain fields, dict values (per dtype) and tuple items."""
    for name in type(part).model_fields:
        value = getattr(part, name)
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, (int, float)):
                    _check_item(name, f"{name}.{key}", item)
        elif isinstance(value, (tuple, list)):
            for index, item in enumerate(value):
                if isinstance(item, (int, float)):
                    _check_item(name, f"{name}[{index}]", item)
        else:
            check_number(name, value)


def _check_item(field: str, label: str, value) -> None:
    try:
        check_number(field, value)
    except ValueError as err:
        raise ValueError(str(err).replace(field, label, 1)) from None


def show_number(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value.bit_length() > 1000:
        return f"an integer of {value.bit_length()} bits"
    if value.bit_length() > 64:
        return f"{float(value):.6g}"
    if value >= 2**20 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    return str(value)
