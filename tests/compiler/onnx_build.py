"""A small onnx.helper wrapper for writing exporter-shaped test graphs, plus the weights: every
graph takes its arrays from the project's WeightStore for the equivalent Hugging Face model, so
onnxruntime's output can be compared with the numpy reference on the same weights.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.workload import Workload
from compiler.reference.weights import WeightStore

INT64_MAX = np.iinfo(np.int64).max
F32_MIN = float(np.finfo(np.float32).min)


class Onnx:
    """Accumulates nodes and initializers; `op` returns the output name(s)."""

    def __init__(self) -> None:
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name: str, array) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def const(self, array, dtype=np.int64) -> str:
        self.count += 1
        return self.init(f"const_{self.count}", np.asarray(array, dtype=dtype))

    def op(self, op_type: str, inputs, outputs: int | list = 1, name: str | None = None,
           domain: str = "", **attrs):
        self.count += 1
        name = name or f"/{op_type}_{self.count}"
        outs = outputs if isinstance(outputs, list) else \
            [f"{name}_output_{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name,
                                           domain=domain or None, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def model(self, inputs, outputs, ms_opset: bool = False, opset: int = 17,
              producer: str = "pytorch") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "main_graph", inputs, outputs, self.inits)
        opsets = [helper.make_opsetid("", opset)]
        if ms_opset:
            opsets.append(helper.make_opsetid("com.microsoft", 1))
        model = helper.make_model(graph, opset_imports=opsets, producer_name=producer)
        model.ir_version = 8
        return model


def tensor(name: str, elem, dims) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, dims)


def decoder_inputs(layers: int, kv_heads: int, head_dim: int, position_ids: bool = True,
                   dtype=TensorProto.FLOAT) -> list:
    """input_ids, attention_mask, (position_ids), past_key_values.{i}.key / .value."""
    ins = [tensor("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
           tensor("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"])]
    if position_ids:
        ins.append(tensor("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]))
    for i in range(layers):
        for kind in ("key", "value"):
            ins.append(tensor(f"past_key_values.{i}.{kind}", dtype,
                              ["batch_size", kv_heads, "past_sequence_length", head_dim]))
    return ins


def decoder_outputs(layers: int, vocab: int, kv_heads: int, head_dim: int,
                    dtype=TensorProto.FLOAT) -> list:
    outs = [tensor("logits", dtype, ["batch_size", "sequence_length", vocab])]
    for i in range(layers):
        for kind in ("key", "value"):
            outs.append(tensor(f"present.{i}.{kind}", dtype,
                               ["batch_size", kv_heads, "total_sequence_length", head_dim]))
    return outs


def reference_weights(model, seq: int = 8):
    """(ModelSpec, prefill graph, WeightStore) of a zoo model (or a ModelSpec): the arrays
    every test graph holds, so the numpy reference runs on the same numbers."""
    spec = load_model(model) if isinstance(model, str) else model
    graph = build_graph(spec, Workload(phase="prefill", batch=1, seq=seq, quant="fp16"))
    return spec, graph, WeightStore(graph)


def causal_mask(b: Onnx, attention_mask: str, input_ids: str) -> str:
    """transformers' _prepare_4d_causal_attention_mask as traced: (B, 1, S, T), 0 where a
    query may attend, float32 min elsewhere (past and padding aware)."""
    seq = b.op("Gather", [b.op("Shape", [input_ids]), b.const(1)], axis=0)
    total = b.op("Gather", [b.op("Shape", [attention_mask]), b.const(1)], axis=0)
    past = b.op("Sub", [total, seq])
    rows = b.op("Unsqueeze", [b.op("Range", [past, total, b.const(1)]), b.const([1])])
    cols = b.op("Unsqueeze", [b.op("Range", [b.const(0), total, b.const(1)]), b.const([0])])
    causal = b.op("Not", [b.op("Greater", [cols, rows])])
    keep = b.op("Unsqueeze", [b.op("Cast", [attention_mask], to=TensorProto.BOOL),
                              b.const([1, 2])])
    allowed = b.op("And", [causal, keep])
    return b.op("Where", [allowed, b.const(0.0, np.float32), b.const(F32_MIN, np.float32)])


def rope_tables(theta: float, rotary_dims: int, rows: int, full: bool):
    """(cos, sin) float32 of shape (rows, rotary_dims / 2), or (rows, rotary_dims) as
    cat(freqs, freqs) when `full` (transformers' cos_cached), from float64 angles."""
    inv_freq = theta ** (-np.arange(0, rotary_dims, 2, dtype=np.float64) / rotary_dims)
    freqs = np.outer(np.arange(rows, dtype=np.float64), inv_freq)
    if full:
        freqs = np.concatenate([freqs, freqs], axis=1)
    return np.cos(freqs).astype(np.float32), np.sin(freqs).astype(np.float32)


def quantize_nbits(w: np.ndarray, block: int):
    """MatMulNBits packing of a (K, N) float weight, symmetric 4-bit, default zero point 8:
    (B uint8 (N, blocks, block / 2), scales float32 (N * blocks,), dequantized (K, N))."""
    k, n = w.shape
    blocks = -(-k // block)
    padded = np.zeros((blocks * block, n), np.float32)
    padded[:k] = w
    groups = padded.T.reshape(n, blocks, block)
    scale = np.abs(groups).max(axis=2) / 7.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(groups / scale[..., None]) + 8, 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    deq = ((q.astype(np.float32) - 8) * scale[..., None].astype(np.float32))
    deq = deq.reshape(n, blocks * block).T[:k]
    return packed, scale.astype(np.float32).reshape(-1), deq.astype(np.float32)
