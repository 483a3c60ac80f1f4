"""Quantize pass: set weight and activation dtypes for the workload's scheme and record, on each
MATMUL, how it is quantized (attrs quant), so the reference and code generation agree.

Schemes (graph.workload.quant):
  fp16   no change.
  w8a8   MATMUL weights int8, symmetric per output channel; every activation int8 with one
         static per-tensor scale (calibrated once on the float path, as mllm-NPU does);
         KV cache int8 (or kv_bits when narrower).
  w4a16  MATMUL weights int4 in groups of 128 along K (K when smaller; the checkpoint's own
         group size when the model states one, e.g. an ONNX MatMulNBits block_size) with fp16
         group scales; activations fp16 (bf16 / fp32 checkpoints are cast, as under fp16).
  w8a16  as w4a16 with int8 weights (per-group fp16 scales, the same group size).
         Weight-only schemes: the matrix unit dequantizes each weight tile to fp16 in its
         kernel's inner loop, charged per unit (hwsim/service.py: GPUs at the CUDA cores'
         instruction rate, other units at their dequant_weights_per_cycle; partition.py
         refuses a unit with no dequantization datapath).
  w4a8   MATMUL weights int4 in groups along K with integer group scales over an int8
         per-channel grid (two-level, so the GEMM stays integer); activations int8 as in w8a8.
  mixed  FlightLLM's mixed precision: as w8a8, then each linear layer's weights narrowed to
         its own width (2/3/4 bits, grouped as w4a8) when the target's mixed_precision
         mechanism is on (compiler/mixed_precision.py); off: INT8 weights throughout.
attrs quant = {scheme, weight_dtype, weight_granularity, group_size, act_dtype,
act_granularity}; KV_WRITE gets attrs kv_quant = {bits, granularity} when the cache is integer.

Outlier channels (mllm-NPU's shadow outlier execution): for w8a8 on a target whose mechanisms
have outlier_extraction on, every MATMUL with a 2-D weight gets attrs outlier_channels =
ceil(outlier_channel_fraction x K): that many input channels (the largest calibrated |x|)
are computed in float on the CPU and added to the NPU's int32 accumulator.
"""
from __future__ import annotations

import math
from dataclasses import replace

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.ir.tensor import TensorSpec
from compiler.mixed_precision import layer_bits, mechanism_bits

GROUP_SIZE = 128
FLOAT_DTYPES = ("fp16", "bf16", "fp32", "fp8")
WEIGHT_ONLY = ("w4a16", "w8a16")  # integer weights, fp16 activations
SCHEMES = {
    # scheme: (weight dtype, weight granularity, activation dtype or None to keep)
    "fp16": None,
    "w8a8": ("int8", "per_channel", "int8"),
    "w4a16": ("int4", "per_group", None),
    "w8a16": ("int8", "per_group", None),
    "w4a8": ("int4", "per_group_two_level", "int8"),
    # FlightLLM: per-layer 2/3/4/8-bit weights dequantised to INT8 (compiler/mixed_precision.py)
    "mixed": ("int8", "per_channel", "int8"),
}


def scheme_of(graph: Graph) -> str:
    """The workload's scheme, or CompilerError naming the known ones."""
    quant = graph.workload.quant
    if quant not in SCHEMES:
        raise CompilerError(f"unknown quantization scheme {quant!r} "
                            f"(one of {', '.join(SCHEMES)})")
    return quant


def kv_bits_for(graph: Graph) -> int | None:
    """Integer bits of the KV cache, or None for a float cache: kv_bits when below 16, else 8
    under an int8-activation scheme (the K/V come out of int8 GEMMs)."""
    return integer_kv_bits(graph.workload.quant, graph.workload.kv_bits)


def integer_kv_bits(quant: str, kv_bits: int) -> int | None:
    """kv_bits_for on a (scheme, requested --kv-bits) pair, before any graph exists."""
    act = (SCHEMES.get(quant) or (None, None, None))[2]
    if kv_bits < 16:
        return min(kv_bits, 8) if act else kv_bits
    return 8 if act else None


def stored_kv_bits(quant: str, kv_bits: int, checkpoint_dtype: str = "fp16") -> int:
    """Bits per KV cache element as stored: the integer width; else 16, since every float
    scheme (fp16, and the weight-only w4a16 / w8a16, whose activations are fp16) keeps its
    activations and cache in fp16 whatever the checkpoint's dtype (`checkpoint_dtype`, kept
    for callers). Reports print this, not the requested --kv-bits."""
    bits = integer_kv_bits(quant, kv_bits)
    return bits if bits else 16


def group_size_of(graph: Graph) -> int:
    """The group size along K: the workload's (--group-size) when given, else the
    checkpoint's own when the model states one (an ONNX MatMulNBits block_size, a GPTQ / AWQ
    quantization_config group_size), else GROUP_SIZE."""
    if graph.workload.group_size is not None:
        return graph.workload.group_size
    stated = (graph.model.extra.get("weight_quant") or {}).get("group_size")
    return stated if isinstance(stated, int) and stated > 0 else GROUP_SIZE


def outlier_fraction(target) -> float | None:
    """The target's outlier channel fraction when it extracts outliers, else None."""
    mech = getattr(target, "mechanisms", None)
    if mech is None or not getattr(mech, "outlier_extraction", False):
        return None
    return float(getattr(mech, "outlier_channel_fraction", 0.0))


def _act(spec: TensorSpec | None, act_dtype: str | None) -> TensorSpec | None:
    if spec is None or act_dtype is None or spec.dtype not in FLOAT_DTYPES:
        return spec
    return spec.with_dtype(act_dtype)


def _kv_specs(op: Op, kv_dtype: str | None) -> Op:
    """The KV cache's dtype on the KV_WRITE output, the attention ops' cache operand (their
    second input, which reads the KV_WRITE) and their `kv` spec."""
    if kv_dtype is None:
        return op
    if op.kind == OpKind.KV_WRITE:
        return replace(op, output=op.output.with_dtype(kv_dtype)).with_attrs(
            kv_quant={"bits": int(kv_dtype[3:]), "granularity": "per_tensor_static"})
    if op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
        inputs = (op.inputs[0], op.inputs[1].with_dtype(kv_dtype)) + op.inputs[2:]
        kv = op.kv.with_dtype(kv_dtype) if op.kv is not None else None
        return replace(op, inputs=inputs, kv=kv)
    return op


def _quantize_op(op: Op, scheme: str, kv_dtype: str | None, fraction: float | None,
                 group_size: int = GROUP_SIZE) -> Op:
    weight_dtype, granularity, act_dtype = SCHEMES[scheme]
    changes = dict(inputs=tuple(_act(s, act_dtype) for s in op.inputs),
                   output=_act(op.output, act_dtype))
    new = _kv_specs(replace(op, **changes), kv_dtype)
    if op.kind != OpKind.MATMUL:
        return new
    k = op.weight.shape[-2]
    group = min(group_size, k) if granularity != "per_channel" else None
    new = replace(new, weight=op.weight.with_dtype(weight_dtype))
    quant = {"scheme": scheme, "weight_dtype": weight_dtype, "weight_granularity": granularity,
             "group_size": group, "act_dtype": act_dtype or op.output.dtype,
             "act_granularity": "per_tensor_static" if act_dtype else "none"}
    new = new.with_attrs(quant=quant)
    if fraction is not None and scheme == "w8a8" and len(op.weight.shape) == 2:
        new = new.with_attrs(outlier_channels=math.ceil(fraction * k))
    return new


def _to_fp16(op: Op) -> Op:
    def cast(spec):
        if spec is None or spec.dtype not in ("bf16", "fp32"):
            return spec
        return spec.with_dtype("fp16")
    return replace(op, inputs=tuple(cast(s) for s in op.inputs), output=cast(op.output),
                   weight=cast(op.weight), kv=cast(op.kv))


def target_facts(target) -> tuple:
    """Everything `run` reads of the target (a cache of its output keys on these)."""
    return outlier_fraction(target), mechanism_bits(target)


def run(graph: Graph, target=None) -> Graph:
    """A new graph with the dtypes and quant attrs of graph.workload.quant (see module doc).
    target: a targets.Target or None; only its outlier-extraction and mixed-precision
    mechanisms are read (target_facts)."""
    scheme = scheme_of(graph)
    kv_bits = kv_bits_for(graph)
    kv_dtype = f"int{kv_bits}" if kv_bits else None
    if scheme == "fp16":  # run in fp16: bf16 / fp32 checkpoints are cast
        return graph.map_ops_by_content(lambda op: _kv_specs(_to_fp16(op), kv_dtype)
                                        if kv_dtype else _to_fp16(op))
    fraction = outlier_fraction(target)
    group = group_size_of(graph)
    cast = _to_fp16 if scheme in WEIGHT_ONLY else (lambda op: op)
    out = graph.map_ops_by_content(
        lambda op: _quantize_op(cast(op), scheme, kv_dtype, fraction, group))
    return _mixed_widths(out, target) if scheme == "mixed" else out


def _mixed_widths(graph: Graph, target) -> Graph:
    """`mixed`: per-layer weight widths when the target's mixed_precision is on, else INT8."""
    mean_bits = mechanism_bits(target)
    if mean_bits is None:
        return graph
    group = group_size_of(graph)
    linears = [op for op in graph.ops() if op.kind == OpKind.MATMUL and op.weight is not None]
    bits = dict(zip((op.name for op in linears),
                    layer_bits([op.weight.elements for op in linears], mean_bits)))

    def narrow(op: Op) -> Op:
        if op.name not in bits or bits[op.name] == 8:
            return op
        dtype = f"int{bits[op.name]}"
        k = op.weight.shape[-2]
        quant = {**op.attr("quant"), "weight_dtype": dtype,
                 "weight_granularity": "per_group_two_level", "group_size": min(group, k)}
        return replace(op, weight=op.weight.with_dtype(dtype)).with_attrs(quant=quant)
    return graph.map_ops(narrow)
