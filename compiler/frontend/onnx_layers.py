"""One decoder layer's attention and MLP, the embeddings and the position scheme, from the
pieces onnx_parts recognises. Each returns plain facts (sizes, flags) for onnx.py to compare
across layers and turn into a ModelSpec.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from compiler.errors import CompilerError
from compiler.frontend.onnx_graph import OnnxGraph, node_error
from compiler.frontend.onnx_parts import (Core, Linear, activation_between, float_dtype,
                                          linear_below, linears_above, path_nodes)
from compiler.frontend.onnx_rope import rope_facts

# LlamaConfig's default max_position_embeddings: what a graph that computes its RoPE angles at
# run time (no table to count rows of) is taken to allow; extra["max_position_assumed"] says so.
ROPE_MAX_POSITION_DEFAULT = 2048
_INDEX_WRAPPERS = ("Cast", "Identity", "Reshape", "Unsqueeze", "Squeeze", "Flatten")


@dataclass
class Embedding:
    node: object
    table: str      # the initializer's name
    rows: int
    width: int
    dtype: str


def _index_source(g: OnnxGraph, name: str) -> str:
    """The tensor behind `name` through casts and reshapes."""
    while name in g.producer and g.producer[name].op_type in _INDEX_WRAPPERS:
        name = g.producer[name].input[0]
    return name


def token_embedding(g: OnnxGraph) -> Embedding:
    """The Gather that indexes a table by the graph input holding token ids (`input_ids`)."""
    gathers = [n for n in g.nodes if n.op_type == "Gather" and len(n.input) == 2
               and _index_source(g, n.input[1]) in g.inputs]
    ids = [n for n in gathers if "input_ids" in _index_source(g, n.input[1])] or \
        [n for n in gathers if "position" not in _index_source(g, n.input[1])]
    if not ids:
        raise CompilerError(f"{g.path}: no token embedding (a Gather indexed by the token-id "
                            "graph input, conventionally input_ids)")
    node = ids[0]
    table = g.weight_source(node.input[0])
    if table is None:
        dims = g.shapes.get(node.input[0])
        if dims is not None and not all(isinstance(d, int) for d in dims):
            raise node_error(node, f"hidden size is dynamic: the embedding table "
                                   f"{node.input[0]!r} has shape {dims} and no initializer "
                                   "fixes it")
        raise node_error(node, f"the embedding table {node.input[0]!r} is not an initializer "
                               "(the front end reads sizes from the weights)")
    dims = list(g.initializers[table].dims)
    if len(dims) != 2:
        raise node_error(node, f"embedding table {table!r} has rank {len(dims)} (shape "
                               f"{dims}); it must be rank 2 (vocabulary x hidden)")
    return Embedding(node, table, dims[0], dims[1], float_dtype(g, table, node))


def attention_layer(g: OnnxGraph, core: Core, linears: dict, hidden: int) -> dict:
    """{core, q, k, v, o, heads, kv_heads, head_dim, rope} for one attention core."""
    proj = _unpacked(g, core, linears) if not core.k else {}
    for role, tensor in (("q", core.q), ("k", core.k), ("v", core.v)):
        found = [proj[role]] if role in proj else linears_above(g, tensor, linears)
        if len(found) != 1:
            raise node_error(core.node, f"its {role} input comes from {len(found)} linear "
                                        "layers, expected one (a q/k/v projection)")
        if found[0].k != hidden:
            raise node_error(found[0].node, f"the {role} projection reads {found[0].k} "
                                            f"features but the hidden size is {hidden}")
        proj[role] = found[0]
    o = linear_below(g, core.out, linears)
    if o is None:
        raise node_error(core.node, "no output projection (linear layer) after the attention")
    q_path = path_nodes(g, core.q, {id(proj["q"].node)})
    heads, kv, head_dim = _head_split(g, core, proj, q_path)
    facts = rope_facts(g, core, q_path)
    rope = None
    if facts is not None:
        theta, dims, rows = facts
        if dims < 4 or dims > head_dim:
            raise node_error(core.node, f"rotary embedding over {dims} dimensions does not fit "
                                        f"head_dim {head_dim}")
        rope = (theta, dims / head_dim, rows)
    if o.k != heads * head_dim or o.n != hidden:
        raise node_error(o.node, f"the output projection is {o.k} x {o.n}, expected "
                                 f"{heads * head_dim} x {hidden}")
    return dict(core=core, o=o, heads=heads, kv_heads=kv, head_dim=head_dim, rope=rope, **proj)


def _unpacked(g: OnnxGraph, core: Core, linears: dict) -> dict:
    """Packed QKV (a fused attention op with the query input only): one linear layer of width
    (heads + 2 kv_heads) x head_dim stands for q, k and v; {q, k, v: that layer with each
    part's width}."""
    found = linears_above(g, core.q, linears)
    heads, kv = core.heads, core.kv_heads
    if len(found) != 1 or not isinstance(heads, int) or not isinstance(kv, int) \
            or heads < 1 or kv < 1 or found[0].n % (heads + 2 * kv):
        raise node_error(core.node, f"packed QKV input from {len(found)} linear layers does "
                                    f"not split into {heads} query and 2 x {kv} key/value "
                                    "heads")
    head_dim = found[0].n // (heads + 2 * kv)
    return {role: replace(found[0], n=width * head_dim)
            for role, width in (("q", heads), ("k", kv), ("v", kv))}


def _head_split(g: OnnxGraph, core: Core, proj: dict, q_path: list) -> tuple[int, int, int]:
    q, k = proj["q"], proj["k"]
    if core.heads is not None:
        heads, kv = core.heads, core.kv_heads
        if not isinstance(heads, int) or heads < 1 or q.n % heads:
            raise node_error(core.node, f"num_heads {heads!r} does not split the query width "
                                        f"{q.n}")
        head_dim = q.n // heads
    else:
        reshapes = sorted((n for n in q_path if n.op_type == "Reshape"),
                          key=lambda n: g.order[id(n)])
        if not reshapes:
            raise node_error(core.node, "no Reshape splits the query into heads")
        shape = g.partial_ints(reshapes[0].input[1])
        if not shape or shape[-1] is None or shape[-1] < 1:
            raise node_error(reshapes[0], f"the head split's shape {shape} is computed at run "
                                          "time; the front end cannot resolve head_dim")
        head_dim = shape[-1]
        if q.n % head_dim or k.n % head_dim:
            raise node_error(reshapes[0], f"head_dim {head_dim} does not split the q/k widths "
                                          f"{q.n} and {k.n}")
        heads, kv = q.n // head_dim, k.n // head_dim
    if not isinstance(kv, int) or kv < 1 or heads % kv or k.n != kv * head_dim \
            or proj["v"].n != k.n:
        raise node_error(core.node, f"{heads} query heads, {kv} key/value heads of {head_dim}: "
                                    f"k/v widths {k.n} and {proj['v'].n} do not match")
    return heads, kv, head_dim


def mlp_layer(g: OnnxGraph, layer: dict, own: list[Linear], hidden: int) -> dict:
    """{mlp, intermediate, gated, activation, parallel, mlp_bias} from the layer's linear layers
    other than q/k/v/o, in graph order."""
    where = layer["core"].node
    if len(own) == 3:
        shared = [lin for lin in own if sum(o.input == lin.input for o in own) == 2]
        down = next((lin for lin in own if lin not in shared), None)
        if len(shared) != 2 or down is None:
            raise node_error(where, "its layer has three MLP linear layers but no two of them "
                                    "read the same input (gate and up)")
        acts = [activation_between(g, lin.out, down.node) for lin in shared]
        if acts.count(None) != 1:
            raise node_error(shared[0].node, "cannot tell the gate from the up projection (no "
                                             "activation on exactly one of them)")
        gate = shared[0] if acts[0] else shared[1]
        activation, first, gated = acts[0] or acts[1], gate, True
    elif len(own) == 2:
        first, down = own
        activation, gated = activation_between(g, first.out, down.node), False
        if activation is None:
            raise node_error(first.node, "no activation between the MLP's two linear layers")
    else:
        raise node_error(where, f"its layer has {len(own)} MLP linear layers, expected 2 (fc1, "
                                "fc2) or 3 (gate, up, down)")
    if first.k != hidden or down.n != hidden or down.k != first.n:
        raise node_error(down.node, f"MLP shapes {first.k} x {first.n} then {down.k} x "
                                    f"{down.n} do not chain from and back to hidden {hidden}")
    return dict(mlp=own, intermediate=first.n, gated=gated, activation=activation,
                parallel=first.input == layer["q"].input,
                mlp_bias=any(lin.bias for lin in own))


def positions(g: OnnxGraph, embed: Embedding, rope) -> dict:
    """{kind, max_position, ...}: RoPE (theta, fraction, table rows) or a learned table (a
    second Gather of width hidden; an Add of a constant to its indices is the offset)."""
    tables = [n for n in g.nodes if n.op_type == "Gather" and n is not embed.node
              and (t := g.weight_source(n.input[0])) is not None
              and len(g.initializers[t].dims) == 2 and g.initializers[t].dims[1] == embed.width]
    if rope is not None:
        theta, fraction, rows = rope
        facts = {"kind": "rope", "theta": theta, "fraction": fraction, "max_position": rows}
        if rows is None:  # angles computed at run time: the graph does not bound positions
            facts.update(max_position=ROPE_MAX_POSITION_DEFAULT, max_position_assumed=True)
        return facts
    if not tables:
        raise CompilerError(f"{g.path}: no position information (neither rotary tables nor a "
                            "learned position table)")
    node = tables[0]
    offset = 0
    index = g.producer.get(_index_source(g, node.input[1]))
    if index is not None and index.op_type == "Add":
        value = next((g.const(i) for i in index.input if g.const(i) is not None), None)
        if value is not None and value.size == 1:
            offset = int(value.ravel()[0])
    rows = g.initializers[g.weight_source(node.input[0])].dims[0]
    if rows - offset < 1:
        raise node_error(node, f"position table of {rows} rows with offset {offset}")
    return {"kind": "learned", "offset": offset, "max_position": rows - offset}
