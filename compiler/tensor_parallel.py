"""One device's share of a tensor-parallel (Megatron-style) decoder: the ModelSpec it computes.

With tensor parallelism `tp`, each device holds 1/tp of the attention heads (their Q, K, V
columns, their KV cache and the matching rows of the output projection), 1/tp of the FFN width
(columns of the up projection, rows of the down projection) and 1/tp of the vocabulary
(embedding rows, LM-head columns). Its activations between blocks stay full width (hidden), so
the spec keeps hidden_size and head_dim and divides heads, KV heads, intermediate size and
vocabulary. This is what the NeuPIMs artifact simulates per device (casys-kaist/NeuPIMs:
src/Model.cc divides the QKV, projection and FFN weights by n_tp; src/StageProgram.cc and
src/scheduler/Scheduler.cc take model_n_head / n_tp heads; configs/model_configs/*.json n_tp).

Not modelled here: the two all-reduces per layer (after the output projection and after the
FFN down projection) that sum the devices' partial outputs; a caller that needs them adds them.
"""
from __future__ import annotations

from dataclasses import replace

from compiler.errors import CompilerError
from compiler.model import ModelSpec


def device_share(model: ModelSpec, tp: int) -> ModelSpec:
    """The part of `model` one of `tp` tensor-parallel devices computes."""
    if tp < 1:
        raise CompilerError(f"tensor parallelism must be >= 1, got {tp}")
    if tp == 1:
        return model
    if model.moe is not None or model.mla is not None:
        raise CompilerError(f"{model.name}: tensor-parallel shares of MoE / MLA models are not "
                            "modelled")
    for what, value in (("heads", model.num_heads), ("kv heads", model.num_kv_heads),
                        ("intermediate size", model.intermediate_size)):
        if value % tp:
            raise CompilerError(f"{model.name}: {what} {value} do not divide by tp {tp}")
    return replace(model, name=f"{model.name}/tp{tp}", num_heads=model.num_heads // tp,
                   num_kv_heads=model.num_kv_heads // tp,
                   intermediate_size=model.intermediate_size // tp,
                   vocab_size=-(-model.vocab_size // tp))
