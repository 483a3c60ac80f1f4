"""The quantized reference executor: the oracle the simulator's functional mode matches bit for
bit on integer paths. Run the quantize pass first (it records attrs quant on every MATMUL).

int8-activation schemes (w8a8, w4a8). Every op output is an int8 tensor with one static
per-tensor scale from calibrate() (the KV_WRITE output: kv_bits integers, one scale per
column). Per op:
  MATMUL (integer GEMM; weights per compiler.reference.qweights):
    x_q      the producer's int8 output, s_x its scale (rows gathered per matmul_layout)
    acc      = sum_k x_q[r, k] * W_int[g, k, n]                 exact, int64
    acc     += saturate_int32(round_half_away(bias[n] / (s_x * s_w[g, n])))   (float64)
    acc      = saturate_int32(acc)
    (mult, shift) = quantize_multiplier(float64(s_x) * float64(s_w[g, n]) / float64(s_y))
    y_q      = requantize(acc, mult, shift, 8)
    MoE expert_down instead dequantizes acc (float32(acc * s_x * s_w), float64 product),
    combines the top_k rows with the dequantized routing weights in float32 and quantizes
    the sum with s_y.
    Outlier channels O (attrs outlier_channels, w8a8 on mllm-NPU): the producer's float32
    result x_f (CPU) is quantized with the MATMUL's own input scale (calibrated without O),
    columns O of x_q are zeroed and rows O of W are left out of the integer weight; the CPU
    computes x_f[:, O] @ W[O, :] in float32 and adds
    saturate_int32(round_half_away(part / (s_x * s_w))) to acc before requantization.
    A MATMUL with a fused activation (attrs epilogue_fn, passes/fuse.py) instead dequantizes
    acc (float32(acc * s_x * s_w), float64 product), applies the activation in float32 and
    quantizes with s_y.
  KV_WRITE: quantize(rows, column scales, kv_bits); the past cache is quantized the same way
    and the attention ops read the dequantized cache. With an 8-bit cache (not MLA) the
    column scales are the K and V producers' own scales, so the cache holds their int8
    outputs, and ATTN_SCORE / ATTN_CONTEXT are integer GEMMs (compiler.reference.int_attention).
  any other op: dequantize inputs (float32(q) * float32(s)), compute in float32 with the
    float executor's kernels, y_q = quantize(y, s_y, 8) (float64 divide, half away, saturate).
fp16-activation schemes (fp16, w4a16) run the float kernels on fp16-rounded values; see
compiler.reference.half_exec.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.passes.quantize import kv_bits_for, scheme_of
from isa import intmath as im
from isa import vecmath as K
from compiler.reference import int_attention as ia
from compiler.reference.calibration import Calibration, calibrate, quantized_kv_step
from compiler.reference.float_exec import attention_scale
from compiler.reference.float_exec import EXPERTS_SUFFIX, FloatExecutor
from compiler.reference.kvcache import rows_to_heads
from compiler.reference.matmul_layout import (activation_source, gather_rows, grouped_matmul,
                                              router_source, scatter_rows)
from compiler.reference.qweights import QuantWeight, quantize_weight

INT_SCHEMES = ("w8a8", "w4a8")


@dataclass
class QuantRun:
    """values: op name -> int8 (int8-activation schemes) or float16 outputs, plus the routers'
    `name:experts` int32; scales: op name -> float32 output scale (empty for fp16
    activations); kv_past: KV_WRITE name -> integer past cache per part (integer KV only)."""

    values: dict[str, np.ndarray]
    scales: dict[str, np.ndarray] = field(default_factory=dict)
    kv_past: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def dequantized(self, name: str) -> np.ndarray:
        """The op's output as float32 (dequantized with its scale when it has one)."""
        if name in self.scales:
            return im.dequantize(self.values[name], self.scales[name])
        return self.values[name].astype(np.float32)


class IntExecutor(FloatExecutor):
    """w8a8 / w4a8: integer GEMMs, static int8 activations (see module doc)."""

    def __init__(self, graph: Graph, token_ids, seed: int = 0,
                 calibration: Calibration | None = None) -> None:
        super().__init__(graph, token_ids, seed)
        self.kv_bits = kv_bits_for(graph)
        self.calib = calibration or calibrate(graph, token_ids, seed, self.weights, self.cache,
                                              self.kv_bits)
        self.scales: dict[str, np.ndarray] = {}
        self.floats: dict[str, np.ndarray] = {}  # CPU float32 results of non-GEMM ops
        self.kv_past_q: dict[str, list[np.ndarray]] = {}
        self.kv_full_q: dict[str, list[np.ndarray]] = {}  # integer cache after the step
        self.kv_part_scales: dict[str, list[np.float32]] = {}
        self._deq: dict[str, np.ndarray] = {}
        self._qw: dict[str, QuantWeight] = {}

    def input(self, name: str) -> np.ndarray:
        if name not in self._deq:
            self._deq[name] = im.dequantize(self.values[name], self.scales[name])
        return self._deq[name]

    def execute(self, op: Op) -> None:
        scale = self.calib.scales[op.name]
        if op.kind == OpKind.MATMUL:
            q = self._int_matmul(op, scale)
        elif op.kind == OpKind.KV_WRITE:
            if self._integer_attention():
                scale = self._kv_producer_scale(op)
            q, self.kv_past_q[op.name], self.kv_full[op.name] = quantized_kv_step(
                self.cache, op, self._kv_rows(op), scale, self.kv_bits)
            if self._integer_attention():
                self._keep_integer_cache(op, q)
        elif op.kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT) and self._integer_attention():
            q = self._int_attention(op, scale)
        else:
            y = self.compute(op)
            self.floats[op.name] = y
            q = im.quantize(y, scale, 8)
        self.values[op.name], self.scales[op.name] = q, scale

    # ---- integer attention (8-bit cache, not MLA) -------------------------------------------
    def _integer_attention(self) -> bool:
        return self.kv_bits == 8 and self.model.mla is None

    def _kv_parts(self, op: Op) -> list[str]:
        """The K and V producers, in cache-column order (as _kv_rows concatenates them)."""
        names = self.graph.sources(op.name)
        v = [n for n in names if self.graph.op(n).attr("role") == "v_proj"]
        return [n for n in names if n not in v] + v

    def _kv_producer_scale(self, op: Op) -> np.ndarray:
        parts = self._kv_parts(op)
        widths = [self.graph.op(n).output.shape[1] for n in parts]
        self.kv_part_scales[op.name] = [self.scales[n] for n in parts]
        return ia.kv_producer_scales(widths, self.kv_part_scales[op.name])

    def _keep_integer_cache(self, op: Op, rows_q: np.ndarray) -> None:
        heads = op.attr("kv_heads")
        cols = heads * op.attr("head_dim")
        self.kv_full_q[op.name] = [
            np.concatenate([past.astype(np.int64), rows_to_heads(
                rows_q[:, i * cols:(i + 1) * cols].astype(np.int64), self.batch, self.q_len,
                heads)], axis=2)
            for i, past in enumerate(self.kv_past_q[op.name])]

    def _int_attention(self, op: Op, s_y: np.ndarray) -> np.ndarray:
        kv = self._source(op, kind=OpKind.KV_WRITE)
        src = self._source(op, exclude=OpKind.KV_WRITE)
        heads = op.attr("heads")
        x = self.values[src].reshape(self.batch, self.q_len, heads, -1)
        if op.kind == OpKind.ATTN_SCORE:
            acc = ia.score_acc(x, self.kv_full_q[kv][0])
            m = ia.per_tensor_multiplier(self.scales[src], self.kv_part_scales[kv][0],
                                         attention_scale(self.graph, op), s_y)
        else:
            acc = ia.context_acc(x, self.kv_full_q[kv][1])
            m = ia.per_tensor_multiplier(self.scales[src], self.kv_part_scales[kv][1], s_y)
        return ia.requantize_per_tensor(acc, m)

    def quant_weight(self, op: Op) -> QuantWeight:
        if op.name not in self._qw:
            quant = op.attr("quant")
            if not quant or quant.get("scheme") not in INT_SCHEMES:
                raise CompilerError(f"{op.name} has no integer quant attrs: run "
                                    f"compiler.passes.quantize on a w8a8 / w4a8 workload first")
            self._qw[op.name] = quantize_weight(self.matmul_weight(op), quant,
                                                self.calib.outliers.get(op.name))
        return self._qw[op.name]

    def _int_matmul(self, op: Op, s_y: np.ndarray) -> np.ndarray:
        src, router = activation_source(self.graph, op), router_source(self.graph, op)
        experts = self.values[router + EXPERTS_SUFFIX] if router else None
        outliers = self.calib.outliers.get(op.name)
        qw = self.quant_weight(op)
        if outliers is not None:
            s_x = self.calib.input_scales[op.name]
            x_f = self.floats[src] if src in self.floats else self.input(src)
            x_f, groups = gather_rows(op, x_f, experts, self.batch, self.q_len)
            x_q = im.quantize(x_f, s_x, 8).astype(np.int64)
            x_q[:, outliers] = 0
        else:
            s_x = self.scales[src]
            x_q, groups = gather_rows(op, self.values[src].astype(np.int64), experts,
                                      self.batch, self.q_len)
        acc = grouped_matmul(x_q, groups, qw.integer)
        acc_scale = accumulator_scale(s_x, qw)                          # (N,) or (G, N)
        row_scale = acc_scale if groups is None else acc_scale[groups]
        bias = self.weights.bias(op.name)
        if bias is not None:
            acc = acc + in_accumulator_units(bias, row_scale)
        if outliers is not None:
            part = x_f[:, outliers] @ self.matmul_weight(op)[outliers, :]
            acc = acc + in_accumulator_units(part, row_scale)
        acc = im.saturate_int32(acc)
        if op.attr("epilogue_fn"):
            y = K.activation((acc * row_scale).astype(np.float32), op.attr("epilogue_fn"))
            return scatter_rows(op, im.quantize(y, s_y, 8), None)
        if op.attr("role") == "expert_down":
            y = (acc * row_scale).astype(np.float32)
            return im.quantize(scatter_rows(op, y, self.input(router)), s_y, 8)
        mult, shift = requant_multipliers(acc_scale, s_y)
        if groups is not None:
            mult, shift = mult[groups], shift[groups]
        return scatter_rows(op, im.requantize(acc, mult, shift, 8), None)

    def result(self) -> QuantRun:
        return QuantRun(self.values, self.scales, self.kv_past_q)


def accumulator_scale(s_x, qw: QuantWeight) -> np.ndarray:
    """What one unit of an int32 accumulator is worth: float64(s_x) * s_w per output column."""
    return np.float64(s_x) * qw.scale.astype(np.float64)


def in_accumulator_units(values: np.ndarray, acc_scale: np.ndarray) -> np.ndarray:
    """A float term (bias, outlier partial sums) as accumulator integers: round, saturate."""
    return im.saturate_int32(im.round_half_away(values / acc_scale))


def requant_multipliers(acc_scale: np.ndarray, s_y) -> tuple[np.ndarray, np.ndarray]:
    """Q31 multipliers and shifts from the accumulator scale to the output scale s_y."""
    return im.quantize_multipliers(acc_scale / np.float64(s_y))


def run_int(graph: Graph, token_ids, seed: int = 0,
            calibration: Calibration | None = None) -> QuantRun:
    """Execute a quantized graph (after compiler.passes.quantize) bit-exactly.

    w8a8 / w4a8: IntExecutor (calibrated on the float path unless `calibration` is given);
    fp16 / w4a16: fp16 activations (half_exec). Same inputs give the same bits every time."""
    scheme = scheme_of(graph)
    if scheme in INT_SCHEMES:
        ex = IntExecutor(graph, token_ids, seed, calibration)
        ex.run()
        return ex.result()
    from compiler.reference.half_exec import HalfExecutor
    ex = HalfExecutor(graph, token_ids, seed, calibration)
    ex.run()
    return ex.result()
