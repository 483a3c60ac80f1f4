"""An ONNX file, loaded and indexed for pattern matching: nodes in order, who produces and who
consumes each tensor, constants (initializers and Constant nodes, folded through the few ops
exporters wrap weights in), inferred shapes. Loading checks what every later step relies on and
fails with one line naming the node, its op type and why: an op the front end does not know, an
input nobody produces, a cycle, a file that is not ONNX.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from compiler.errors import CompilerError

MS_DOMAIN = "com.microsoft"

# Ops the front end reads through: everything exporters (torch.onnx, optimum, onnxruntime-genai's
# model builder) put around the layers' arithmetic. Data-only ops (shape arithmetic, masks) are
# accepted and ignored; ops that carry the layers' math are what onnx_parts recognises.
PLAIN_OPS = frozenset("""
Add And Cast Concat Constant ConstantOfShape Cos CumSum Div Dropout Equal Erf Expand Flatten
Gather GatherElements Gemm Gelu Greater GreaterOrEqual Identity LayerNormalization Less
LessOrEqual MatMul Max Min Mul Neg Not Or Pow Range Reciprocal ReduceMax ReduceMean ReduceSum
Relu Reshape ScatterND Shape Sigmoid Sin Size Slice Softmax Split Sqrt Squeeze Sub Tanh Tile
Transpose Trilu Unsqueeze Where SimplifiedLayerNormalization
""".split())
CONTRIB_OPS = frozenset("""
SimplifiedLayerNormalization SkipSimplifiedLayerNormalization SkipLayerNormalization
RotaryEmbedding GroupQueryAttention MultiHeadAttention MatMulNBits FastGelu Gelu QuickGelu
""".split())
# Ops through which a weight reaches its consumer unchanged in value (up to layout or dtype).
_WEIGHT_WRAPPERS = ("Identity", "Cast", "Transpose")


def node_label(node) -> str:
    """How errors name a node: its name (or first output) and op type."""
    name = node.name or (node.output[0] if node.output else "?")
    return f"node {name!r} (op {node.op_type})"


def node_error(node, why: str) -> CompilerError:
    return CompilerError(f"{node_label(node)}: {why}")


def load_onnx(path: Path):
    """The ModelProto in `path`, or CompilerError (one line) when it is not a readable model."""
    try:
        import onnx
    except ImportError as exc:
        raise CompilerError(f"{path}: reading .onnx models needs the onnx package "
                            "(pip install 'hwsim[onnx]')") from exc
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends: the bytes are not a model
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CompilerError(f"{path}: not a readable ONNX model (truncated or not ONNX: "
                            f"{reason})") from exc
    if not model.graph.node:
        raise CompilerError(f"{path}: not a readable ONNX model (it holds no graph nodes)")
    return model


class OnnxGraph:
    """One model's graph, indexed. `nodes` are in a topological order (checked)."""

    def __init__(self, model, path: Path) -> None:
        self.model, self.path = model, path
        graph = model.graph
        self.inputs = {i.name: i for i in graph.input}
        self.outputs = [o.name for o in graph.output]
        self.initializers = {t.name: t for t in graph.initializer}
        self._arrays: dict[str, np.ndarray] = {}
        self.producer: dict[str, object] = {}
        self.consumers: dict[str, list] = {}
        for node in graph.node:
            for out in node.output:
                if out:
                    self.producer[out] = node
        self._check_ops(graph.node)
        self._check_inputs(graph.node)
        self.nodes = self._topological(graph.node)
        for node in self.nodes:
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.order = {id(n): i for i, n in enumerate(self.nodes)}
        self.shapes = self._infer_shapes()

    # ---- checks made once, at load ---------------------------------------------------------
    def _check_ops(self, nodes) -> None:
        for node in nodes:
            known = CONTRIB_OPS if node.domain == MS_DOMAIN else PLAIN_OPS
            if node.domain not in ("", "ai.onnx", MS_DOMAIN) or node.op_type not in known:
                domain = f" in domain {node.domain!r}" if node.domain else ""
                hint = ("; optimum's merged decoder switches between its with- and "
                        "without-past graphs in an If: give decoder_model.onnx instead"
                        if node.op_type == "If" else "")
                raise node_error(node, f"unsupported op{domain} (the ONNX front end reads "
                                       "decoder-only transformer graphs; docs/compiler.md "
                                       f"lists the ops it knows){hint}")

    def _check_inputs(self, nodes) -> None:
        for node in nodes:
            for name in node.input:
                if name and name not in self.producer and name not in self.inputs \
                        and name not in self.initializers:
                    raise node_error(node, f"input {name!r} is not produced by any node, not a "
                                           "graph input and has no initializer")

    def _topological(self, nodes) -> list:
        """Kahn's order over the data edges; a node left over lies on a cycle."""
        waiting = {id(n): sum(1 for i in n.input if i in self.producer) for n in nodes}
        users: dict[int, list] = {}
        for n in nodes:
            for name in n.input:
                if name in self.producer:
                    users.setdefault(id(self.producer[name]), []).append(n)
        ready = deque(n for n in nodes if waiting[id(n)] == 0)
        order = []
        while ready:
            node = ready.popleft()
            order.append(node)
            for user in users.get(id(node), ()):
                waiting[id(user)] -= 1
                if waiting[id(user)] == 0:
                    ready.append(user)
        if len(order) < len(nodes):
            stuck = next(n for n in nodes if waiting[id(n)] > 0)
            raise node_error(stuck, "lies on a cycle (a decoder graph is acyclic)")
        return order

    def _infer_shapes(self) -> dict[str, list]:
        """{tensor: dims} from the graph's value infos after ONNX shape inference; a dim is an
        int or a symbol (str) or None. Inference that fails leaves the declared infos."""
        import onnx
        try:
            inferred = onnx.shape_inference.infer_shapes(self.model, strict_mode=False).graph
        except Exception:  # inference is a convenience: declared shapes still count
            inferred = self.model.graph
        shapes = {}
        for info in list(inferred.input) + list(inferred.value_info) + list(inferred.output):
            t = info.type.tensor_type
            if t.HasField("shape"):
                shapes[info.name] = [d.dim_value if d.HasField("dim_value") else
                                     (d.dim_param or None) for d in t.shape.dim]
        for name, init in self.initializers.items():
            shapes[name] = list(init.dims)
        return shapes

    # ---- constants -------------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        """The value of `name` when it is an initializer or a Constant node's output, or one of
        those through Identity / Cast / Transpose / Unsqueeze / Squeeze; else None."""
        if name in self._arrays:
            return self._arrays[name]
        value = self._const(name)
        if value is not None:
            self._arrays[name] = value
        return value

    def _const(self, name: str) -> np.ndarray | None:
        from onnx import helper, numpy_helper
        if name in self.initializers:
            return self._initializer_array(self.initializers[name])
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    return numpy_helper.to_array(attr.t)
                if attr.name in ("value_float", "value_int", "value_floats", "value_ints"):
                    return np.asarray(helper.get_attribute_value(attr))
            return None
        if node.op_type in ("Identity", "Cast", "Transpose", "Unsqueeze", "Squeeze") \
                and node.input:
            base = self.const(node.input[0])
            if base is None:
                return None
            if node.op_type == "Transpose":
                perm = self.attr(node, "perm")
                return np.transpose(base, perm) if perm is not None else base.T
            if node.op_type == "Cast":
                return base  # values only; dtypes are read from the initializer itself
            if node.op_type == "Identity":
                return base
            axes = self._axes(node)
            if node.op_type == "Unsqueeze":
                return np.expand_dims(base, tuple(axes)) if axes is not None else None
            return np.squeeze(base, tuple(axes)) if axes else np.squeeze(base)
        return None

    def _initializer_array(self, tensor) -> np.ndarray:
        """Its values; weights in external data files (models over 2 GB) are read one tensor
        at a time, and only for the few tensors whose values the front end needs."""
        from onnx import external_data_helper, numpy_helper
        if external_data_helper.uses_external_data(tensor):
            tensor = type(tensor).FromString(tensor.SerializeToString())
            try:
                external_data_helper.load_external_data_for_tensor(tensor, str(self.path.parent))
            except Exception as exc:  # onnx raises its own ValidationError for a missing file
                raise CompilerError(f"{self.path}: initializer {tensor.name!r}: cannot read its "
                                    f"external data ({' '.join(str(exc).split())})") from exc
        return numpy_helper.to_array(tensor)

    def weight_dims(self, name: str) -> list[int] | None:
        """The dims of the initializer behind `name`, permuted by any Transpose on the way
        (no values are read)."""
        perms = []
        while name not in self.initializers:
            node = self.producer.get(name)
            if node is None or node.op_type not in _WEIGHT_WRAPPERS:
                return None
            if node.op_type == "Transpose":
                perms.append(self.attr(node, "perm"))
            name = node.input[0]
        dims = list(self.initializers[name].dims)
        for perm in reversed(perms):
            dims = [dims[p] for p in perm] if perm is not None else dims[::-1]
        return dims

    def _axes(self, node):
        axes = self.attr(node, "axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            value = self.const(node.input[1])
            axes = None if value is None else [int(a) for a in np.ravel(value)]
        return axes

    def partial_ints(self, name: str) -> list | None:
        """A 1-D int tensor (a Reshape's shape) as a list of ints and None for entries computed
        at run time: constants, Concat of constants and run-time pieces, declared length."""
        value = self.const(name)
        if value is not None:
            return [int(v) for v in np.ravel(value)]
        node = self.producer.get(name)
        if node is not None and node.op_type == "Concat":
            parts = [self.partial_ints(i) for i in node.input]
            if all(p is not None for p in parts):
                return [v for p in parts for v in p]
        shape = self.shapes.get(name)
        if shape is not None and len(shape) == 1 and isinstance(shape[0], int):
            return [None] * shape[0]
        if node is not None and node.op_type == "Unsqueeze":
            return [None]
        return None

    def weight_source(self, name: str) -> str | None:
        """The initializer behind `name` (through Identity / Cast / Transpose), else None."""
        while name not in self.initializers:
            node = self.producer.get(name)
            if node is None or node.op_type not in _WEIGHT_WRAPPERS:
                return None
            name = node.input[0]
        return name

    # ---- attributes and walking ------------------------------------------------------------
    @staticmethod
    def attr(node, key: str, default=None):
        from onnx import helper
        for a in node.attribute:
            if a.name == key:
                return helper.get_attribute_value(a)
        return default

    def users(self, name: str) -> list:
        return self.consumers.get(name, [])

    def first(self, nodes):
        """The node of `nodes` earliest in graph order (None for none)."""
        return min(nodes, key=lambda n: self.order[id(n)], default=None)
