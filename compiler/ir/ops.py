"""Graph IR operations: kinds, and every op's FLOPs, parameters and bytes, in one place.

Conventions (docs/compiler.md): a multiply-accumulate is 2 FLOPs; softmax costs 5 FLOPs per
element (max, subtract, exp, sum, divide), layer norm 7, RMS norm 4, RoPE 3 per rotated element,
activations 4 (SiLU/GELU approximations), elementwise ops 1. Causal attention counts only the
query-key pairs the mask keeps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from compiler.ir.tensor import TensorSpec


class OpKind(str, Enum):
    EMBEDDING = "embedding"
    MATMUL = "matmul"              # activation (M x K) @ weight (K x N) [x experts]
    ATTN_SCORE = "attn_score"      # Q K^T against the KV cache
    ATTN_CONTEXT = "attn_context"  # P V against the KV cache
    SOFTMAX = "softmax"
    RMSNORM = "rmsnorm"
    LAYERNORM = "layernorm"
    ROPE = "rope"
    ACTIVATION = "activation"
    ADD = "add"
    MUL = "mul"
    MOE_ROUTER = "moe_router"      # top-k selection over router logits
    KV_WRITE = "kv_write"          # append this step's K/V (or MLA latent) to the cache


_set_field = object.__setattr__  # past the frozen dataclass's __setattr__, on a new Op only

FLOPS_PER_ELEMENT = {OpKind.SOFTMAX: 5, OpKind.LAYERNORM: 7, OpKind.RMSNORM: 4, OpKind.ROPE: 3,
                     OpKind.ACTIVATION: 4, OpKind.ADD: 1, OpKind.MUL: 1, OpKind.MOE_ROUTER: 2,
                     OpKind.EMBEDDING: 0, OpKind.KV_WRITE: 0}


@dataclass(frozen=True)
class Op:
    """One node of the graph. `weight` is a stored parameter; `kv` the KV-cache slice it reads.

    attrs (all optional): role, experts, top_k, heads, kv_heads, q_len, context, head_dim,
    causal, tied, sparsity, unit, quant, tiles, fused ...
    """

    name: str
    kind: OpKind
    inputs: tuple[TensorSpec, ...]
    output: TensorSpec
    weight: TensorSpec | None = None
    kv: TensorSpec | None = None
    layer: int | None = None
    attrs: dict = field(default_factory=dict, compare=False)

    def with_attrs(self, **changes) -> Op:
        return self._copy_with(attrs={**self.attrs, **changes})

    def renamed(self, name: str, layer: int | None) -> Op:
        """This op under another name and layer (attrs shared: ops are never changed)."""
        fields = self.__dict__.copy()  # one dict built and handed over (as _copy_with)
        fields["name"], fields["layer"] = name, layer
        new = object.__new__(Op)
        _set_field(new, "__dict__", fields)
        return new

    def _copy_with(self, **fields) -> Op:
        """dataclasses.replace without its __init__ round trip (Op validates nothing)."""
        new = object.__new__(Op)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(fields)
        return new

    def attr(self, key, default=None):
        return self.attrs.get(key, default)

    # ---- counts ------------------------------------------------------------------------
    @property
    def tokens(self) -> int:
        """Rows of the activation (tokens x batch)."""
        return self.inputs[0].shape[0] if self.inputs else 1

    @property
    def params(self) -> int:
        """Stored parameters (all experts; a tied weight counts once, at the embedding)."""
        if self.weight is None or self.attr("tied"):
            return 0
        return self.weight.elements

    @property
    def active_params(self) -> int:
        """Parameters one token uses: top_k of the experts for MoE (embedding tables count in
        full, the convention behind Mixtral's published 12.9B active)."""
        if self.weight is None or self.attr("tied"):
            return 0
        experts = self.attr("experts", 1)
        return self.weight.elements * self.attr("top_k", experts) // experts

    @property
    def flops(self) -> int:
        k = self.kind
        if k == OpKind.MATMUL:
            # rows x (one expert's / all heads' weight elements); MoE rows = tokens x top_k
            rows = self.attr("rows", self.inputs[0].shape[0])
            return 2 * rows * self.weight.elements // self.attr("experts", 1)
        if k in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            return 2 * self.attr("batch") * self.attr("heads") * self.attention_pairs \
                * self.attr("head_dim")
        return FLOPS_PER_ELEMENT[k] * self.output.elements

    @property
    def attention_pairs(self) -> int:
        """Query-key pairs per (sequence, head): causal over `context` cached + `q_len` new."""
        q, ctx = self.attr("q_len"), self.attr("context")
        return q * ctx + q * (q + 1) // 2 if self.attr("causal", True) else q * (ctx + q)

    @property
    def weight_bytes_read(self) -> int:
        """Parameter bytes fetched for this op: MoE reads only the experts the batch touches."""
        if self.weight is None:
            return 0
        if self.kind == OpKind.EMBEDDING:
            return self.tokens * self.weight.nbytes // self.weight.shape[0]
        experts = self.attr("experts", 1)
        if experts == 1:
            return self.weight.nbytes
        return round(self.weight.nbytes * expected_experts_touched(
            experts, self.attr("top_k"), self.attr("route_tokens")) / experts)

    @property
    def bytes_read(self) -> int:
        kv = self.kv.nbytes if self.kv is not None else 0
        return sum(t.nbytes for t in self.inputs) + self.weight_bytes_read + kv

    @property
    def bytes_written(self) -> int:
        return self.output.nbytes


def expected_experts_touched(experts: int, top_k: int, tokens: int) -> float:
    """E[distinct experts] when each of `tokens` picks top_k of `experts` uniformly:
    E x (1 - (1 - k/E)^T)."""
    return experts * (1.0 - (1.0 - top_k / experts) ** tokens)
