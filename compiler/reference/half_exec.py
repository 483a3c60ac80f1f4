"""fp16-activation execution (schemes fp16 and w4a16): the float32 kernels, with every op output
rounded to float16 (round to nearest even) and read back as float32.

MATMUL weights: w4a16 group-dequantized (compiler.reference.qweights.dequantized_weight), fp16
rounded to float16; the past KV cache is rounded to float16. An integer KV cache (--kv-bits
below 16) is quantized with calibrated static scales exactly as in the int8 executor.
"""
from __future__ import annotations

import numpy as np

from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.passes.quantize import kv_bits_for
from isa import intmath as im
from compiler.reference.calibration import Calibration, calibrate, quantized_kv_step
from compiler.reference.float_exec import FloatExecutor
from compiler.reference.int_exec import QuantRun
from compiler.reference.qweights import dequantized_weight


def _half(x: np.ndarray) -> np.ndarray:
    """Round float32 to the nearest float16 and back."""
    return x.astype(np.float16).astype(np.float32)


class HalfExecutor(FloatExecutor):
    def __init__(self, graph: Graph, token_ids, seed: int = 0,
                 calibration: Calibration | None = None) -> None:
        super().__init__(graph, token_ids, seed)
        self.kv_bits = kv_bits_for(graph)
        self.calib = calibration
        if self.kv_bits and calibration is None:
            self.calib = calibrate(graph, token_ids, seed, self.weights, self.cache,
                                   self.kv_bits)
        self.scales: dict[str, np.ndarray] = {}
        self.kv_past_q: dict[str, list[np.ndarray]] = {}
        self._w: dict[str, np.ndarray] = {}

    def input(self, name: str) -> np.ndarray:
        if name in self.scales:
            return im.dequantize(self.values[name], self.scales[name])
        return self.values[name].astype(np.float32)

    def matmul_weight(self, op: Op) -> np.ndarray:
        if op.name not in self._w:
            self._w[op.name] = dequantized_weight(self.weights.matmul_weight(op),
                                                  op.attr("quant"))
        return self._w[op.name]

    def execute(self, op: Op) -> None:
        if op.kind == OpKind.KV_WRITE and self.kv_bits:
            scale = self.calib.scales[op.name]
            q, self.kv_past_q[op.name], self.kv_full[op.name] = quantized_kv_step(
                self.cache, op, self._kv_rows(op), scale, self.kv_bits)
            self.values[op.name], self.scales[op.name] = q, scale
            return
        if op.kind == OpKind.KV_WRITE:  # an fp16 cache: the past is fp16 too
            past = [_half(p) for p in self.cache.past(op.name)]
            rows = self._kv_rows(op)
            self.kv_full[op.name] = self.cache.extend(op.name, rows, past=past)
            self.values[op.name] = rows.astype(np.float16)
            return
        self.values[op.name] = self.compute(op).astype(np.float16)

    def result(self) -> QuantRun:
        return QuantRun(self.values, self.scales, self.kv_past_q)
