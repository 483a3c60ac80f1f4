"""MemoryUse: the main-memory bytes a compiled step needs, by kind (passes/allocate.py lays
them out in this order; `hwsim fit` and the "does not fit" refusal report them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class MemoryUse:
    weight_bytes: int        # every stored weight, each page-aligned
    kv_bytes: int            # the KV cache, exact: 2 x layers x kv_heads x head_dim x positions x
    #                          batch x bytes (graph meta kv_bytes is kv_layout_bytes)
    kv_layout_bytes: int     # the same regions as laid out (each page-aligned)
    activation_bytes: int    # the spilled-activation pool: its peak over the step (liveness)
    workspace_bytes: int     # results the step hands back (the logits the sampler reads)
    resident_peak_bytes: int  # on chip: the resident region's peak (not main memory)

    @property
    def total_bytes(self) -> int:
        """Main-memory bytes: the end of the off-chip layout."""
        return self.weight_bytes + self.kv_layout_bytes + self.activation_bytes + \
            self.workspace_bytes
