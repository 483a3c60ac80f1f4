"""Workload: what is run (phase, batch, lengths, quantization)."""
from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import CompilerError

PHASES = ("prefill", "decode", "generate")


@dataclass(frozen=True, kw_only=True)
class Workload:
    """prefill: `seq` prompt tokens per sequence. decode: one new token per sequence over
    `context` cached tokens. generate: prefill `seq`, then `gen` decode steps."""

    phase: str = "decode"
    batch: int = 1
    seq: int = 128
    context: int = 128
    gen: int = 128
    quant: str = "auto"          # auto: the target family's default (compiler.quant_defaults)
    kv_bits: int = 16
    sparsity: str | None = None   # "2:4", "block"
    layers: int | None = None     # build only the first N decoder layers
    group_size: int | None = None  # weights per scale group along K (None: checkpoint's / 128)
    kv_capacity: int | None = None  # cache positions laid out per sequence (default: as needed)
    # decode: each sequence's own cached length (None: all `context`); when given, `context`
    # must be the longest (it sizes the cache) and attention covers each sequence's own tokens
    contexts: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise CompilerError(f"unknown phase {self.phase!r} (one of {', '.join(PHASES)})")
        for name in ("batch", "seq", "gen"):
            if getattr(self, name) < 1:
                raise CompilerError(f"--{name} must be >= 1, not {getattr(self, name)}")
        if self.context < 0:
            raise CompilerError(f"--context must be >= 0, not {self.context}")
        if self.kv_bits not in (2, 3, 4, 8, 16):
            raise CompilerError(f"--kv-bits must be one of 2, 3, 4, 8, 16, not {self.kv_bits}")
        if self.group_size is not None and self.group_size < 1:
            raise CompilerError(f"--group-size must be >= 1, not {self.group_size}")
        if self.layers is not None and self.layers < 1:
            raise CompilerError(f"--layers must be >= 1, not {self.layers}")
        if self.contexts is not None and (len(self.contexts) != self.batch
                                          or min(self.contexts, default=0) < 0
                                          or max(self.contexts, default=0) != self.context
                                          or self.phase != "decode"):
            raise CompilerError("per-sequence contexts need a decode step, one length >= 0 per "
                                f"sequence ({self.batch}, got {len(self.contexts)}) and "
                                "--context equal to the longest")

    @property
    def step_tokens(self) -> int:
        """New tokens per sequence in one forward pass of this phase."""
        return self.seq if self.phase == "prefill" else 1

    @property
    def step_context(self) -> int:
        """Cached tokens before this forward pass."""
        return 0 if self.phase == "prefill" else self.context
