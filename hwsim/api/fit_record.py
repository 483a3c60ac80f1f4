"""The record `hwsim.api.fit` returns: frozen, units in the field names, `.to_dict()` equal to
`hwsim fit --json`."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Fit:
    """What fits `target`'s main memory (`memory`, `capacity_bytes` bytes) for `model`.

    `batch` sequences at `context_tokens` positions each (`prompt_tokens` prefilled, then
    `gen_tokens` decoded) is the run the bytes describe: the larger of its prefill and decode
    steps (`limiting_phase`). By kind: `weight_bytes`, `kv_bytes` (2 x layers x kv_heads x
    head_dim x context_tokens x batch x KV bytes; one latent region for MLA), `activation_bytes`
    (the off-chip activation pool at its liveness peak), `workspace_bytes` (the results the
    step hands back: the logits); `total_bytes` is the end of the off-chip layout (each region
    page-aligned). `max_batch`: the largest batch that fits at `context_tokens`;
    `max_context_tokens`: the longest context that fits at `batch` (0: none)."""

    model: str
    target: str
    memory: str
    quant: str
    kv_bits: int
    batch: int
    context_tokens: int
    prompt_tokens: int
    gen_tokens: int
    limiting_phase: str
    capacity_bytes: int
    weight_bytes: int
    kv_bytes: int
    activation_bytes: int
    workspace_bytes: int
    total_bytes: int
    max_batch: int
    max_context_tokens: int

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([self.to_dict()])
