"""What a compiled program runs on: the off-chip image and the per-op constants, from the
quantized reference (compiler.reference.int_exec), for hwsim.functional.

The off-chip image (uint8, `dram_bytes` long) holds what the program LOADs:
  MATMUL weights   tile-major (passes/allocate.weight_tile_address); inside a tile the stored
                   integers (tk x tn) row-major: int8 one per byte, int4 two per byte, the
                   element with the even index in the low nibble (two's complement);
  EMBEDDING        the table quantized with the op's output scale, one int8 row per token id;
  KV cache         each part's past positions, head-major (b, kv head, position, head_dim),
                   the integers the reference's cache holds.
The constants (plain numbers and numpy arrays, no compiler types) are what the requantize
and vector units hold in their parameter memories: scales, per-column multipliers and bias,
norm gains, and the op facts a vector kernel needs (eps, heads, positions).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import OpKind
from compiler.passes.allocate import weight_tile_address
from compiler.reference import int_attention as ia
from compiler.reference.float_exec import attention_scale
from compiler.reference.int_exec import (IntExecutor, accumulator_scale, in_accumulator_units,
                                         requant_multipliers)
from compiler.reference.weights import gemma_norm
from isa import intmath as im

UNSUPPORTED = (OpKind.MOE_ROUTER,)


@dataclass(frozen=True)
class ProgramData:
    image: np.ndarray          # uint8 off-chip memory before the run
    constants: dict            # op name -> dict of parameters (see module doc)
    token_ids: np.ndarray      # (batch * step tokens,) int64
    reference: IntExecutor     # the quantized reference that was run


def program_data(graph: Graph, token_ids, seed: int = 0) -> ProgramData:
    """Run the integer reference on the compiled graph and lay out what the program reads."""
    if graph.model.mla is not None or any(op.kind in UNSUPPORTED for op in graph.ops()):
        raise CompilerError("functional data: MoE routing and MLA are not supported yet")
    if graph.model.tie_embeddings:
        raise CompilerError("functional data: tied embeddings are not supported yet (the "
                            "gather reads the table per tensor-quantized rows, the LM head "
                            "per-channel quantized tiles)")
    ex = IntExecutor(graph, token_ids, seed)
    if ex.kv_bits != 8:
        raise CompilerError(f"functional data needs an int8-activation scheme with an 8-bit KV "
                            f"cache (w8a8, w4a8), not {graph.workload.quant} / kv {ex.kv_bits}")
    ex.run()
    image = np.zeros(int(graph.meta.get("dram_bytes", 0)), dtype=np.uint8)
    constants = {}
    for op in graph.ops():
        c = {"kind": op.kind.value, "out_scale": float(np.asarray(ex.scales[op.name]).ravel()[0]),
             "in_scales": [float(np.asarray(ex.scales[s]).ravel()[0])
                           for s in graph.sources(op.name)]}
        if op.kind == OpKind.MATMUL:
            c.update(_matmul(ex, op, image))
        elif op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            c.update(_attention(ex, graph, op))
        elif op.kind == OpKind.EMBEDDING:
            c.update(_embedding(ex, op, image))
        elif op.kind == OpKind.KV_WRITE:
            _kv_past(ex, op, image)
        else:
            c.update(_vector(ex, graph, op))
        constants[op.name] = c
    return ProgramData(image, constants, ex.ids, ex)


def pack(values: np.ndarray, bits: int) -> np.ndarray:
    """Signed integers -> bytes: int8 as is; int4 two per byte, even index in the low nibble."""
    flat = np.asarray(values, dtype=np.int64).ravel()
    if bits == 8:
        return flat.astype(np.int8).view(np.uint8)
    if bits != 4:
        raise CompilerError(f"functional data: {bits}-bit weights are not supported")
    nib = (flat & 0xF).astype(np.uint8)
    if nib.size % 2:
        nib = np.append(nib, np.uint8(0))
    return nib[0::2] | (nib[1::2] << 4)


def _put(image: np.ndarray, addr: int, data: np.ndarray) -> None:
    if addr + data.size > image.size:
        raise CompilerError(f"functional data: {data.size} B at {addr} past the image end")
    image[addr:addr + data.size] = data


def _matmul(ex: IntExecutor, op, image: np.ndarray) -> dict:
    if len(op.weight.shape) != 2 or op.attr("sparsity") or op.attr("outlier_channels"):
        raise CompilerError(f"functional data: {op.name}: grouped, sparse or outlier GEMMs "
                            f"are not supported yet")
    qw = ex.quant_weight(op)
    t = op.attr("tiles")
    k, n = op.weight.shape
    for n0 in range(0, n, t["tn"]):
        tn = min(t["tn"], n - n0)
        for k0 in range(0, k, t["tk"]):
            tk = min(t["tk"], k - k0)
            addr, nbytes = weight_tile_address(op, 0, n0, k0, tn, tk)
            data = pack(qw.stored[k0:k0 + tk, n0:n0 + tn], op.weight.bits)
            _put(image, addr, data[:nbytes])
    row_scale = accumulator_scale(ex.scales[ex.graph.sources(op.name)[0]], qw)
    mult, shift = requant_multipliers(row_scale, ex.scales[op.name])
    bias = ex.weights.bias(op.name)
    return {"mult": mult, "shift": shift, "row_scale": row_scale,
            "bias_int": None if bias is None else in_accumulator_units(bias, row_scale),
            "epilogue_fn": op.attr("epilogue_fn"), "group_scale": qw.group_scale,
            "group_size": op.attr("quant", {}).get("group_size")}


def _attention(ex: IntExecutor, graph: Graph, op) -> dict:
    """The one per-tensor multiplier of an integer attention GEMM (int_attention)."""
    kv = [s for s in graph.sources(op.name) if graph.op(s).kind == OpKind.KV_WRITE][0]
    src = [s for s in graph.sources(op.name) if s != kv][0]
    if op.kind == OpKind.ATTN_SCORE:
        factors = (ex.scales[src], ex.kv_part_scales[kv][0], attention_scale(graph, op))
    else:
        factors = (ex.scales[src], ex.kv_part_scales[kv][1])
    mult, shift = ia.per_tensor_multiplier(*factors, ex.scales[op.name])
    return {"mult": mult, "shift": shift}


def _embedding(ex: IntExecutor, op, image: np.ndarray) -> dict:
    """The table as the op's output scale quantizes it (times sqrt(hidden) first for scaled
    embeddings, as the reference does); rows are gathered by token id, or by position for a
    learned position table."""
    table = ex.weights.weight(op.name)
    if op.attr("scale"):
        table = table * np.float32(math.sqrt(ex.model.hidden_size))
    table = im.quantize(table, ex.scales[op.name], 8)
    _put(image, int(op.attr("weight_addr")), table.view(np.uint8).ravel())
    by_position = op.attr("role") == "position" or op.name == "pos_embed"
    return {"gather_ids": (ex.positions if by_position else ex.ids).astype(np.int64)}


def _kv_past(ex: IntExecutor, op, image: np.ndarray) -> None:
    row = int(op.attr("row_bytes"))
    for part, base in zip(ex.kv_past_q[op.name], (op.attr("k_addr"), op.attr("v_addr"))):
        b_n, heads, ctx, _ = part.shape
        for b in range(b_n):
            for h in range(heads):
                addr = int(base) + ((b * heads + h) * int(op.attr("max_len"))) * row
                _put(image, addr, part[b, h].astype(np.int8).view(np.uint8).ravel())


def _vector(ex: IntExecutor, graph: Graph, op) -> dict:
    c = {"q_len": ex.q_len, "context": ex.context}
    if op.kind in (OpKind.RMSNORM, OpKind.LAYERNORM):
        c.update(gain=ex.weights.weight(op.name), eps=op.attr("eps", graph.model.norm_eps),
                 one_plus=gemma_norm(graph.model))
    elif op.kind == OpKind.ROPE:
        c.update(heads=op.attr("heads"), rotary_dims=op.attr("rotary_dims"),
                 theta=op.attr("theta"))
    elif op.kind == OpKind.ACTIVATION:
        c.update(fn=op.attr("fn"))
    elif op.kind == OpKind.SOFTMAX:
        score = graph.op(graph.sources(op.name)[0])
        c.update(heads=score.attr("heads"), causal=score.attr("causal", True))
    return c
