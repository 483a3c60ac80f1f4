"""The pieces of a decoder graph, recognised in an OnnxGraph: linear layers (MatMul / Gemm /
MatMulNBits with a constant weight), norms (fused ops or their ReduceMean decompositions),
attention cores (a Softmax between two activation MatMuls, or GroupQueryAttention /
MultiHeadAttention) and activations (RoPE: onnx_rope.py). onnx_layers.py and onnx.py assemble
them into a ModelSpec.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from compiler.frontend.onnx_graph import MS_DOMAIN, OnnxGraph, node_error

# Inputs that carry data (not shapes or indices) for the ops a walk passes through.
_FIRST_ONLY = {"Reshape", "Expand", "Slice", "Unsqueeze", "Squeeze", "Tile", "Split",
               "Transpose", "Cast", "Identity", "Dropout", "Flatten", "Neg", "Softmax",
               "RotaryEmbedding"}
_NO_DATA = {"Shape", "Size", "ConstantOfShape", "Range", "Constant"}
_FLOAT_DTYPES = {1: "fp32", 10: "fp16", 16: "bf16"}  # onnx.TensorProto element types
NORM_OPS = {"LayerNormalization": "layernorm", "SkipLayerNormalization": "layernorm",
            "SimplifiedLayerNormalization": "rmsnorm",
            "SkipSimplifiedLayerNormalization": "rmsnorm"}
CORE_OPS = ("GroupQueryAttention", "MultiHeadAttention")
_ACTIVATION_OPS = {"Sigmoid": "silu", "Relu": "relu", "Erf": "gelu", "Tanh": "gelu_tanh",
                   "FastGelu": "gelu_tanh"}


def data_inputs(node) -> list[str]:
    if node.op_type in _NO_DATA:
        return []
    if node.op_type in _FIRST_ONLY or (node.op_type == "Gather"):
        return [node.input[0]] if node.input else []
    if node.op_type == "Where":
        return list(node.input[1:3])
    return [i for i in node.input if i]


@dataclass
class Linear:
    node: object
    k: int
    n: int
    out: str            # the tensor after the bias add, when there is one
    bias: bool
    dtype: str          # fp32 | fp16 | bf16 | int4 ...
    bits: int
    block_size: int | None
    weight: str | None  # the initializer (MatMul / Gemm), for tie detection

    @property
    def input(self) -> str:
        return self.node.input[0]


@dataclass
class Norm:
    node: object
    kind: str           # rmsnorm | layernorm
    eps: float
    width: int


@dataclass
class Core:
    node: object        # the Softmax or the fused attention node
    q: str
    k: str
    v: str
    out: str
    heads: int | None = None      # known for the fused ops
    kv_heads: int | None = None
    rotary: object = None         # RotaryEmbedding-style node holding the cos/sin caches


def float_dtype(g: OnnxGraph, init_name: str, node) -> str:
    dtype = g.initializers[init_name].data_type
    if dtype not in _FLOAT_DTYPES:
        raise node_error(node, f"weight {init_name!r} has element type {dtype}, not a float "
                               "type (fp32, fp16, bf16) or MatMulNBits")
    return _FLOAT_DTYPES[dtype]


def linear_of(g: OnnxGraph, node) -> Linear | None:
    """The node as a linear layer when its weight is a constant, else None."""
    if node.op_type == "MatMulNBits" and node.domain == MS_DOMAIN:
        return _nbits(g, node)
    if node.op_type not in ("MatMul", "Gemm") or len(node.input) < 2:
        return None
    source = g.weight_source(node.input[1])
    if source is None:
        return None
    dims = list(g.initializers[source].dims)
    if len(dims) != 2:
        raise node_error(node, f"weight {source!r} has rank {len(dims)} (shape {dims}); a "
                               "linear layer's weight must be rank 2 (K x N)")
    k, n = g.weight_dims(node.input[1])
    if node.op_type == "Gemm" and g.attr(node, "transB", 0):
        k, n = n, k
    out, bias = node.output[0], node.op_type == "Gemm" and len(node.input) > 2 \
        and bool(node.input[2])
    if not bias:
        out, bias = _bias_add(g, out, n)
    return Linear(node, k, n, out, bias, float_dtype(g, source, node), 16, None, source)


def _nbits(g: OnnxGraph, node) -> Linear:
    k, n = g.attr(node, "K"), g.attr(node, "N")
    bits, block = g.attr(node, "bits", 4), g.attr(node, "block_size")
    if not isinstance(k, int) or not isinstance(n, int) or k < 1 or n < 1:
        raise node_error(node, f"attributes K and N must be positive integers, got K {k!r} "
                               f"and N {n!r}")
    if bits != 4:
        raise node_error(node, f"bits {bits}: the front end reads 4-bit MatMulNBits only")
    if not isinstance(block, int) or block < 16 or block & (block - 1):
        raise node_error(node, f"block_size {block!r} must be a power of 2 >= 16 "
                               "(MatMulNBits' definition)")
    packed = g.initializers.get(node.input[1])
    blocks = -(-k // block)
    want = [n, blocks, block * bits // 8]
    if packed is None or list(packed.dims) != want:
        got = list(packed.dims) if packed is not None else "no initializer"
        raise node_error(node, f"packed weight {node.input[1]!r} must be a uint8 initializer "
                               f"of shape {want} for K {k}, N {n}, block_size {block}; got {got}")
    bias = len(node.input) > 5 and bool(node.input[5])
    out = node.output[0]
    if not bias:
        out, bias = _bias_add(g, out, n)
    return Linear(node, k, n, out, bias, "int4", bits, block, None)


def _bias_add(g: OnnxGraph, out: str, n: int) -> tuple[str, bool]:
    users = g.users(out)
    if len(users) == 1 and users[0].op_type == "Add":
        other = [i for i in users[0].input if i != out]
        value = g.const(other[0]) if other else None
        if value is not None and value.shape == (n,):
            return users[0].output[0], True
    return out, False


# ---------------------------------------------------------------------------- norms

def norm_of(g: OnnxGraph, node) -> Norm | None:
    """A fused norm op, or the ReduceMean that squares-and-averages in a decomposed one."""
    if node.op_type in NORM_OPS:
        gamma = g.const(node.input[2] if node.op_type.startswith("Skip") else node.input[1])
        if gamma is None or gamma.ndim != 1:
            raise node_error(node, "the norm's scale (gamma) is not a constant 1-D tensor")
        default = 1e-5 if node.op_type == "LayerNormalization" else 1e-6
        return Norm(node, NORM_OPS[node.op_type], float(g.attr(node, "epsilon", default)),
                    gamma.shape[0])
    if node.op_type != "ReduceMean":
        return None
    square = g.producer.get(node.input[0])
    if square is None or not _is_square(g, square):
        return None
    base = g.producer.get(square.input[0])
    kind = "layernorm" if base is not None and base.op_type == "Sub" else "rmsnorm"
    eps = _norm_eps(g, node)
    gamma = _norm_gamma(g, node)
    if eps is None or gamma is None:
        raise node_error(node, f"looks like a decomposed {kind} (mean of squares) but its "
                               "epsilon Add or its 1-D scale Mul was not found")
    return Norm(node, kind, eps, gamma)


def _is_square(g: OnnxGraph, node) -> bool:
    if node.op_type == "Pow":
        exponent = g.const(node.input[1])
        return exponent is not None and exponent.size == 1 and float(exponent.ravel()[0]) == 2.0
    return node.op_type == "Mul" and node.input[0] == node.input[1]


def _norm_eps(g: OnnxGraph, reduce_node) -> float | None:
    for user in g.users(reduce_node.output[0]):
        if user.op_type == "Add":
            for name in user.input:
                value = g.const(name)
                if value is not None and value.size == 1:
                    return float(np.float32(value.ravel()[0]))
    return None


def _norm_gamma(g: OnnxGraph, reduce_node, depth: int = 8) -> int | None:
    """Width of the first 1-D constant a Mul downstream of the ReduceMean applies."""
    frontier, seen = [reduce_node.output[0]], set()
    for _ in range(depth):
        following = []
        for name in frontier:
            for user in g.users(name):
                if id(user) in seen:
                    continue
                seen.add(id(user))
                if user.op_type == "Mul":
                    for i in user.input:
                        value = g.const(i)
                        if value is not None and value.ndim == 1 and value.size > 1:
                            return value.shape[0]
                following.extend(o for o in user.output if o)
        frontier = following
    return None


# ---------------------------------------------------------------------------- attention

def core_of(g: OnnxGraph, node) -> Core | None:
    if node.domain == MS_DOMAIN and node.op_type in CORE_OPS:
        heads = g.attr(node, "num_heads")
        kv = g.attr(node, "kv_num_heads", heads)
        rotary = node if g.attr(node, "do_rotary", 0) else None
        key, value = (node.input[i] if len(node.input) > i else "" for i in (1, 2))
        if bool(key) != bool(value):
            raise node_error(node, "has a key input without a value input (or the reverse)")
        # no key / value: packed QKV, the query input holds [q | k | v] per token
        return Core(node, node.input[0], key, value, node.output[0], heads, kv, rotary)
    if node.op_type != "Softmax":
        return None
    scores = _walk_to(g, node.input[0], up=True)
    probs = _walk_to(g, node.output[0], up=False)
    if scores is None or probs is None:
        raise node_error(node, "a Softmax not between two activation MatMuls (scores = Q K^T, "
                               "context = P V): not an attention pattern the front end knows")
    return Core(node, scores.input[0], scores.input[1], probs.input[1], probs.output[0])


def _walk_to(g: OnnxGraph, start: str, up: bool, limit: int = 12):
    """The nearest MatMul with two run-time operands above (or below) `start`."""
    queue, seen = deque([(start, 0)]), set()
    while queue:
        name, hops = queue.popleft()
        nodes = [g.producer[name]] if up and name in g.producer else \
            ([] if up else g.users(name))
        for node in nodes:
            if id(node) in seen or hops > limit:
                continue
            seen.add(id(node))
            if node.op_type == "MatMul" and all(g.const(i) is None for i in node.input):
                return node
            if node.op_type in ("Softmax", "MatMul") or node.op_type in NORM_OPS:
                continue
            nxt = data_inputs(node) if up else [o for o in node.output if o]
            queue.extend((n, hops + 1) for n in nxt if g.const(n) is None)
    return None


def path_nodes(g: OnnxGraph, start: str, stop: set[int]) -> list:
    """Nodes on the data paths above `start`, stopping at (and excluding) nodes in `stop`."""
    out, queue, seen = [], deque([start]), set()
    while queue:
        node = g.producer.get(queue.popleft())
        if node is None or id(node) in seen or id(node) in stop:
            continue
        seen.add(id(node))
        out.append(node)
        queue.extend(data_inputs(node))
    return out


def linears_above(g: OnnxGraph, start: str, linears: dict[int, Linear]) -> list[Linear]:
    """The linear layers first met on the data paths above `start`."""
    found, queue, seen = [], deque([start]), set()
    while queue:
        node = g.producer.get(queue.popleft())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if id(node) in linears:
            found.append(linears[id(node)])
        elif node.op_type not in NORM_OPS and node.op_type not in CORE_OPS:
            queue.extend(data_inputs(node))
    # a bias Add sits between a linear and its users: report the linear once
    return list({id(lin.node): lin for lin in found}.values())


def linear_below(g: OnnxGraph, start: str, linears: dict[int, Linear]) -> Linear | None:
    """The first linear layer the value `start` flows into."""
    queue, seen = deque([start]), set()
    while queue:
        for node in g.users(queue.popleft()):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if id(node) in linears and node.input[0] != "":
                return linears[id(node)]
            queue.extend(o for o in node.output if o)
    return None


# ---------------------------------------------------------------------------- activations

def activation_between(g: OnnxGraph, start: str, end_node) -> str | None:
    """The activation function on the path from tensor `start` to `end_node`'s input."""
    queue, seen, found = deque([start]), set(), []
    while queue:
        for node in g.users(queue.popleft()):
            if id(node) in seen or node is end_node:
                continue
            seen.add(id(node))
            if node.op_type in _ACTIVATION_OPS:
                found.append(_ACTIVATION_OPS[node.op_type])
            elif node.op_type == "Gelu":
                approx = g.attr(node, "approximate", b"none")
                approx = approx.decode() if isinstance(approx, bytes) else approx
                found.append("gelu_tanh" if approx == "tanh" else "gelu")
            elif node.op_type == "QuickGelu":
                raise node_error(node, "QuickGelu (x * sigmoid(1.702 x)) has no matching "
                                       "activation in the compiler (silu, gelu, gelu_tanh, relu)")
            if len(seen) < 24:
                queue.extend(o for o in node.output if o)
    return found[0] if found else None
