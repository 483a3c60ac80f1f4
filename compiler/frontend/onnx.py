"""ONNX model file -> ModelSpec (the `onnx` extra).

Reads a decoder-only transformer graph as exporters write it, in its plain-op form (torch.onnx /
optimum: MatMul, Softmax, ReduceMean-based norms, rotate-half RoPE, ...) or with onnxruntime's
fused contrib ops (SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization,
RotaryEmbedding, GroupQueryAttention, MultiHeadAttention, MatMulNBits), and recognises the same
architecture facts the Hugging Face front end reads from config.json, so every pass downstream is
shared. Sizes come from the initializers (weights) and the graph's constants; anything it cannot
map is one line naming the node, its op type and why. docs/compiler.md lists the patterns.
"""
from __future__ import annotations

from pathlib import Path

from compiler.errors import CompilerError
from compiler.frontend.onnx_graph import OnnxGraph, load_onnx, node_error
from compiler.frontend.onnx_layers import attention_layer, mlp_layer, positions, token_embedding
from compiler.frontend.onnx_parts import Linear, core_of, linear_of, norm_of
from compiler.model import ModelSpec


def spec_from_onnx(path: str | Path) -> ModelSpec:
    """Read the ONNX model at `path`. Raises CompilerError (one line) when the file is not ONNX
    or the graph holds an op, a shape or a pattern the front end cannot map."""
    path = Path(path)
    g = OnnxGraph(load_onnx(path), path)
    embed = token_embedding(g)
    vocab, hidden = embed.rows, embed.width
    linears = {id(n): lin for n in g.nodes if (lin := linear_of(g, n)) is not None}
    norms = [norm for n in g.nodes if (norm := norm_of(g, n)) is not None]
    cores = [core for n in g.nodes if (core := core_of(g, n)) is not None]
    if not cores:
        raise CompilerError(f"{path}: no attention found (no Softmax between two MatMuls, no "
                            "GroupQueryAttention or MultiHeadAttention): not a decoder graph")
    lm_head = _lm_head(g, linears, vocab, path)
    layers = [attention_layer(g, core, linears, hidden) for core in cores]
    _same_across_layers(layers, ("heads", "kv_heads", "head_dim", "rope"))
    starts = [min(g.order[id(layer[r].node)] for r in ("q", "k", "v")) for layer in layers]
    ends = starts[1:] + [g.order[id(lm_head.node)]]
    for layer, start, end in zip(layers, starts, ends):
        taken = {id(layer[r].node) for r in ("q", "k", "v", "o")}
        own = sorted((lin for key, lin in linears.items() if key not in taken
                      and start <= g.order[key] < end), key=lambda lin: g.order[id(lin.node)])
        layer.update(mlp_layer(g, layer, own, hidden))
    _same_across_layers(layers, ("intermediate", "gated", "activation", "parallel", "mlp_bias"))
    first = layers[0]
    norm = _norm_facts(path, norms, len(layers), first["parallel"], hidden)
    position = positions(g, embed, first["rope"])
    fields = dict(
        hidden_size=hidden, num_layers=len(layers), num_heads=first["heads"],
        num_kv_heads=first["kv_heads"], head_dim=first["head_dim"],
        intermediate_size=first["intermediate"], vocab_size=vocab,
        max_position=position["max_position"], norm=norm.kind, norm_eps=norm.eps,
        activation=first["activation"], gated_mlp=first["gated"],
        position=position["kind"], rope_theta=position.get("theta", 10000.0),
        rotary_fraction=position.get("fraction", 1.0), parallel_block=first["parallel"],
        qkv_bias=first["q"].bias, out_bias=first["o"].bias or first["mlp_bias"],
        tie_embeddings=_tied(g, embed, lm_head),
    )
    extra = _extra(g, layers, lm_head, position)
    return ModelSpec(name=_model_name(path), family=_family(fields, position), source=str(path),
                     checkpoint_dtype=embed.dtype, extra=extra, **fields)


# File names exporters give every model (optimum, onnxruntime-genai): the folder names it.
_GENERIC_STEMS = ("model", "model_quantized", "decoder_model", "decoder_with_past_model")


def _model_name(path: Path) -> str:
    if path.stem in _GENERIC_STEMS and path.parent.name:
        return path.parent.resolve().name
    return path.stem


def _lm_head(g: OnnxGraph, linears: dict, vocab: int, path: Path) -> Linear:
    heads = [lin for lin in linears.values() if lin.n == vocab and _reaches_output(g, lin.out)]
    if not heads:
        raise CompilerError(f"{path}: no LM head (no linear layer of width {vocab}, the "
                            "vocabulary, produces a graph output)")
    return max(heads, key=lambda lin: g.order[id(lin.node)])


def _reaches_output(g: OnnxGraph, name: str, hops: int = 4) -> bool:
    if name in g.outputs:
        return True
    if hops == 0:
        return False
    return any(_reaches_output(g, out, hops - 1) for user in g.users(name)
               if user.op_type in ("Cast", "Identity", "Reshape", "Slice", "Gather")
               for out in user.output[:1])


def _same_across_layers(layers: list[dict], keys: tuple[str, ...]) -> None:
    for i, layer in enumerate(layers[1:], start=1):
        for key in keys:
            if layer[key] != layers[0][key]:
                raise node_error(layer["core"].node, f"decoder layer {i} has {key} "
                                 f"{layer[key]!r} but layer 0 has {layers[0][key]!r} (the "
                                 "compiler's model has identical layers)")


def _norm_facts(path: Path, norms: list, layers: int, parallel: bool, hidden: int):
    want = layers + 1 if parallel else 2 * layers + 1
    if len(norms) != want:
        raise CompilerError(f"{path}: found {len(norms)} norms, expected {want} for "
                            f"{layers} {'parallel' if parallel else 'sequential'} decoder "
                            "layers and a final norm")
    for norm in norms:
        if (norm.kind, norm.eps, norm.width) != (norms[0].kind, norms[0].eps, hidden):
            raise node_error(norm.node, f"a {norm.kind} of width {norm.width}, epsilon "
                             f"{norm.eps:g} where the model's first norm is a {norms[0].kind} "
                             f"of width {hidden}, epsilon {norms[0].eps:g}")
    first = norms[0]
    first.eps = float(f"{first.eps:.6g}")  # epsilon attributes are float32: ~7 digits
    return first


def _tied(g: OnnxGraph, embed, lm_head: Linear) -> bool:
    """Tied when the LM head multiplies by the embedding table itself (same initializer, or
    equal values: exporters' constant folding may store the transpose as its own copy)."""
    if lm_head.weight is None:
        return False
    if lm_head.weight == embed.table:
        return True
    weight = g.const(lm_head.node.input[1])
    table = g.const(embed.table)
    return weight is not None and weight.shape == table.T.shape and bool((weight == table.T).all())


def _family(fields: dict, position: dict) -> str:
    """The Hugging Face model_type the recognised structure corresponds to."""
    if fields["position"] == "learned":
        return "opt" if position.get("offset") == 2 else "gpt2"
    if fields["norm"] == "rmsnorm" and fields["gated_mlp"]:
        return "qwen2" if fields["qkv_bias"] and not fields["out_bias"] else "llama"
    if fields["parallel_block"]:
        return "gpt_neox" if fields["norm"] == "layernorm" else "phi"
    return "llama"


def _extra(g: OnnxGraph, layers: list[dict], lm_head: Linear, position: dict) -> dict:
    extra = {"onnx": {"producer": g.model.producer_name or None,
                      "opsets": {o.domain or "ai.onnx": o.version for o in g.model.opset_import},
                      "fused_ops": sorted({n.op_type for n in g.nodes
                                           if n.domain == "com.microsoft"})}}
    if position.get("max_position_assumed"):
        extra["max_position_assumed"] = True
    if position["kind"] == "learned":
        extra["position_offset"] = position["offset"]
    if lm_head.bias:
        extra["lm_head_bias"] = True
    quantized = [layer[r] for layer in layers for r in ("q", "k", "v", "o")] + \
        [lin for layer in layers for lin in layer["mlp"]]
    blocks = {lin.block_size for lin in quantized if lin.bits < 16}
    if len(blocks) > 1:
        odd = next(lin for lin in quantized if lin.block_size != quantized[0].block_size)
        raise node_error(odd.node, f"block_size {odd.block_size} differs from "
                                   f"{quantized[0].block_size} elsewhere (one group size per "
                                   "model)")
    if blocks:
        if any(lin.bits == 16 for lin in quantized):
            odd = next(lin for lin in quantized if lin.bits == 16)
            raise node_error(odd.node, "a float linear layer in a model whose other decoder "
                                       "linear layers are 4-bit MatMulNBits (mixed widths are "
                                       "not supported)")
        extra["weight_quant"] = {"bits": 4, "group_size": blocks.pop(),
                                 "format": "MatMulNBits"}
    return extra
