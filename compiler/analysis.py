"""What `hwsim inspect` reports: parameters, FLOPs and bytes per token, KV cache per token.

Every figure is summed from the graph's ops (compiler.ir.ops), the one place FLOPs and bytes are
derived from shapes.
"""
from __future__ import annotations

from dataclasses import replace

from compiler.ir.builder import build_graph
from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.model import ModelSpec


def parameter_counts(graph: Graph) -> dict:
    ops = graph.ops()
    return {"total": sum(op.params for op in ops),
            "active_per_token": sum(op.active_params for op in ops)}


def kv_cache_bytes_per_token(graph: Graph) -> int:
    """Bytes the KV cache grows by per token, over all layers, at the workload's kv_bits."""
    writes = [op for op in graph.ops() if op.kind == OpKind.KV_WRITE]
    return sum(op.output.nbytes for op in writes) // max(1, graph.workload.batch *
                                                        graph.workload.step_tokens)


def phase_figures(graph: Graph) -> dict:
    """FLOPs and bytes per generated/processed token, in total and per op kind."""
    tokens = graph.workload.batch * graph.workload.step_tokens
    by_kind: dict[str, dict[str, float]] = {}
    for op in graph.ops():
        row = by_kind.setdefault(op.kind.value, {"ops": 0, "flops": 0, "bytes": 0})
        row["ops"] += 1
        row["flops"] += op.flops
        row["bytes"] += op.bytes_read + op.bytes_written
    total_flops = sum(r["flops"] for r in by_kind.values())
    total_bytes = sum(r["bytes"] for r in by_kind.values())
    return {
        "tokens": tokens,
        "flops_per_token": total_flops / tokens,
        "bytes_per_token": total_bytes / tokens,
        "arithmetic_intensity_flops_per_byte": total_flops / total_bytes,
        "by_op_kind": {k: {"ops": r["ops"], "flops_per_token": r["flops"] / tokens,
                           "bytes_per_token": r["bytes"] / tokens}
                       for k, r in sorted(by_kind.items())},
    }


def mla_converted(model: ModelSpec, rank: int, rope_dims: int) -> ModelSpec:
    """An MHA / GQA model with its attention converted to multi-head latent attention, as
    MHA2MLA (PAPERS.md B1) does: K and V from a latent of `rank` values per token plus a
    shared RoPE key of `rope_dims`; queries keep head_dim (rope_dims of them rotated)."""
    from dataclasses import replace as _replace
    from compiler.errors import CompilerError
    from compiler.model import MlaSpec
    if model.mla is not None:
        raise CompilerError(f"{model.name} already uses MLA")
    if not 0 < rope_dims < model.head_dim or rank < 1:
        raise CompilerError(f"--mla-rank must be >= 1 and --mla-rope-dims in [1, "
                            f"{model.head_dim - 1}] for {model.name} (head_dim {model.head_dim})")
    return _replace(model, name=f"{model.name}+mla{rank}r{rope_dims}", mla=MlaSpec(
        kv_lora_rank=rank, qk_rope_head_dim=rope_dims,
        qk_nope_head_dim=model.head_dim - rope_dims, v_head_dim=model.head_dim))


def inspect_model(model: ModelSpec, workload: Workload, weight_bits: int = 16) -> dict:
    """The whole `inspect` report; prefill uses workload.seq, decode workload.context.
    `weight_bits`: the storage width weight_bytes is given at (all parameters)."""
    prefill = build_graph(model, replace(workload, phase="prefill"))
    decode = build_graph(model, replace(workload, phase="decode"))
    report = {
        "model": model.name,
        "family": model.family,
        "source": model.source,
        "layers": model.num_layers,
        "hidden_size": model.hidden_size,
        "heads": model.num_heads,
        "kv_heads": model.num_kv_heads,
        "attention": "mla" if model.mla else ("mha" if model.num_kv_heads == model.num_heads
                                              else "gqa"),
        "moe": None if model.moe is None else {"experts": model.moe.num_experts,
                                               "experts_per_token": model.moe.experts_per_token},
        "parameters": parameter_counts(decode),
        "kv_bits": workload.kv_bits,
        "kv_cache_bytes_per_token": kv_cache_bytes_per_token(decode),
        "workload": {"batch": workload.batch, "seq": workload.seq, "context": workload.context},
        "prefill": phase_figures(prefill),
        "decode": phase_figures(decode),
    }
    mha = 2 * model.num_layers * model.hidden_size * 2  # fp16 K and V of full width, all layers
    report["kv_cache_fraction_of_mha_fp16"] = report["kv_cache_bytes_per_token"] / mha
    report["kv_cache_reduction_vs_mha_fp16"] = 1 - report["kv_cache_fraction_of_mha_fp16"]
    report["kv_cache_bytes"] = (report["kv_cache_bytes_per_token"] * workload.batch
                                * workload.context)  # the whole cache at `context` tokens
    report["weight_bits"] = weight_bits
    report["weight_bytes"] = report["parameters"]["total"] * weight_bits // 8
    return report
