"""Periodic decoder layers: what lets code generation lower a few layers and tile the rest.

A transformer's decoder layers are the same ops up to addresses (weights, KV cache). Code
generation carries state from layer to layer (slots in turn, resident hazards, who wrote and who
read each tensor), so two layers emit the same instructions only when that state repeats too;
with ping-pong slots it may repeat every second layer. A *unit* is `p` consecutive layers.

Lowering may skip units (compiler.codegen.compact) when, checked here:
  * the graph: schedule order is head ops, then each layer's ops contiguously, then tail ops;
    every op of a layer is named `L<layer>.`, reads only its own layer, the layer before, or
    non-layer tensors; and over the units involved every op is the same up to integer
    attributes (addresses, schedule positions), which are affine in the unit index;
  * the state: at three successive unit boundaries the codegen state is equal once tensor
    names are taken relative to the boundary layer and records relative to the queue ends
    (`snapshot`); records of the head keep their absolute place.
Code generation is a deterministic function of (state, ops), so the skipped units emit what
the lowered ones did, shifted; compiler.codegen.compact checks the emitted instructions of
three units (affine in their addresses) before it trusts that.
"""
from __future__ import annotations

import re
from functools import lru_cache

_LAYER_NAME = re.compile(r"^L(\d+)\.")


def layer_runs(ops: list):
    """(head ops, [ops of layer 0, layer 1, ...], tail ops), or None unless the schedule runs
    the layers one after another, each contiguous, every layer op named `L<layer>.`."""
    head, layers, tail = [], [], []
    for op in ops:
        if op.layer is None:
            (tail if layers else head).append(op)
            continue
        if tail or not op.name.startswith(f"L{op.layer}."):
            return None
        if op.layer == len(layers):
            layers.append([])
        elif op.layer != len(layers) - 1:
            return None
        layers[-1].append(op)
    return head, layers, tail


def relative_name(name: str, layer: int):
    """`L<k>.x` -> (k - layer, 'x'); a non-layer name stays itself."""
    if not name.startswith("L"):  # the common case, without the pattern
        return name
    split = _layer_split(name)
    if split is None:
        return name
    return (split[0] - layer, split[1])


@lru_cache(maxsize=1 << 16)
def _layer_split(name: str):
    """`L<k>.x` -> (k, 'x'), else None (a graph's names are met once per layer form)."""
    match = _LAYER_NAME.match(name)
    return None if match is None else (int(match.group(1)), name[match.end():])


def shifted_name(name: str, shift: int) -> str:
    match = _LAYER_NAME.match(name)
    if match is None:
        return name
    return f"L{int(match.group(1)) + shift}.{name[match.end():]}"


def _canon(value, layer: int, ints: list):
    """`value` with layer names made relative and integers pulled out into `ints`."""
    kind = type(value)  # the exact built-in types first; subclasses take the general path
    if kind is int:
        ints.append(value)
        return int
    if kind is str:
        return relative_name(value, layer)
    if kind is dict:
        return tuple((k, _canon(v, layer, ints)) for k, v in sorted(value.items()))
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        ints.append(value)
        return int
    if isinstance(value, str):
        return relative_name(value, layer)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(_canon(v, layer, ints) for v in value)
    if isinstance(value, dict):
        return tuple((k, _canon(v, layer, ints)) for k, v in sorted(value.items()))
    return value  # TensorSpec and other frozen values compare by equality


def _names_a_layer(value) -> bool:
    """Whether a layer name (`L<k>.x`) appears anywhere in `value`."""
    if isinstance(value, str):
        return _LAYER_NAME.match(value) is not None
    if isinstance(value, dict):
        return any(_names_a_layer(k) or _names_a_layer(v) for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return any(_names_a_layer(v) for v in value)
    return False


def _attrs_form(attrs: dict, layer: int, ints: list, shared: dict):
    """_canon(attrs): a nested dict met before (the same object: the tiles and quant facts
    every layer's copy of an op shares, compiler.ir.graph.map_ops_by_content) that names no
    layer is the same whatever the layer, so its form is looked up in `shared` (by id: the
    graph keeps every such dict alive while the forms are made). Plain ints, strings and
    tuples of them (addresses, homes) take `_canon`'s path inline: the same forms, fewer
    calls."""
    out = []
    for key in sorted(attrs):  # keys are unique: the order sorted(attrs.items()) gives
        value = attrs[key]
        kind = type(value)
        if kind is int:
            ints.append(value)
            out.append((key, int))
        elif kind is str:
            out.append((key, relative_name(value, layer) if value[:1] == "L" else value))
        elif kind is dict:
            found = shared.get(id(value))
            if found is None:
                found = (_canon(value, layer, sub := []), sub)
                if not _names_a_layer(value):
                    shared[id(value)] = found
            ints.extend(found[1])
            out.append((key, found[0]))
        elif kind is tuple:
            form = ["tuple"]
            for item in value:
                if type(item) is int:
                    ints.append(item)
                    form.append(int)
                else:
                    form.append(_canon(item, layer, ints))
            out.append((key, tuple(form)))
        else:
            out.append((key, _canon(value, layer, ints)))
    return tuple(out)


def _layer_form(graph, ops: list, layer: int, shared: dict):
    """(structure, integers) of one layer's ops, names relative to `layer`; None when an op
    reads a tensor older than the layer before. `shared`: for _attrs_form."""
    ints: list = []
    structure = []
    for op in ops:
        sources = []
        for name in graph.sources(op.name):
            rel = relative_name(name, layer)
            if type(rel) is tuple and rel[0] < -1:
                return None
            sources.append(rel)
        structure.append((relative_name(op.name, layer), op.kind, op.inputs, op.output,
                          op.weight, op.kv, tuple(sources),
                          _attrs_form(op.attrs, layer, ints, shared)))
    return tuple(structure), ints


def units_affine(graph, layers: list, first: int, p: int, units: int) -> bool:
    """Whether units first, first + p, ... (`units` of them, p layers each) are the same ops
    with every integer attribute affine in the unit index."""
    forms, shared = [], {}
    for u in range(units):
        parts = [_layer_form(graph, layers[first + u * p + d], first + u * p + d, shared)
                 for d in range(p)]
        if any(part is None for part in parts):
            return False
        forms.append((tuple(s for s, _ in parts), [i for _, ints in parts for i in ints]))
    structure, base = forms[0]
    step = [b - a for a, b in zip(base, forms[1][1])] if units > 1 else [0] * len(base)
    for u, (s, ints) in enumerate(forms):
        if s != structure or len(ints) != len(base) or \
                any(v != b + u * d for v, b, d in zip(ints, base, step)):
            return False
    return True


def snapshot(cx, layer: int, old_lens: dict, lowered: set):
    """The codegen state at the boundary before `layer`, comparable across boundaries: names
    relative to `layer` (tensors older than the layer before are never read again and are
    left out), records as (queue, position - queue length), except records emitted before
    `old_lens` (the queue lengths a layer back), which stay themselves: the same old record
    in two states is equal, a recent one in one and an old one in the other is not.

    Left out as well, what no later lowering reads: the writers and readers of a tensor whose
    every consumer is in `lowered` (the ops lowered so far; a tensor is read, and its writers
    waited for, only when a consumer is lowered, and its readers count only through its span
    among the resident hazards, which is compared); and the order of those spans (a new
    tensor waits for the readers of every span it overlaps, whatever their order: the spans
    are compared as a multiset, sorted by their repr). The embedding read by layer 0 alone
    thus makes boundary 1 like the later ones."""
    lens = cx.em.lens()
    successors = cx.graph.successors

    def rec(r):
        if r.position < old_lens[r.queue]:
            return (r.queue, "old", r.position)
        return (r.queue, r.position - lens[r.queue])

    def frontier(f):
        return tuple(sorted((rec(r) for r in f), key=repr))  # old and recent records mixed

    def live(name) -> bool:
        rel = relative_name(name, layer)
        return (not isinstance(rel, tuple) or rel[0] >= -1) and \
            not all(s in lowered for s in successors(name))

    tensors = tuple(sorted(((str(relative_name(n, layer)), frontier(f),
                             frontier(cx.readers.get(n, ()))) for n, f in cx.writers.items()
                            if live(n)), key=repr))
    slots = []
    for slot in distinct_slots(cx):
        held = tuple(None if c is None or not live(c[0][0]) else
                     ((relative_name(c[0][0], layer),) + tuple(c[0][1:]), rec(c[1]))
                     for c in slot.contents)
        slots.append((slot.turn, tuple(frontier(r) for r in slot.readers), held))
    spans = tuple(sorted(((b, s, e, frontier(r)) for b, s, e, r in cx.hazards.spans), key=repr))
    return tensors, tuple(slots), spans


def relabel(cx, shift: int) -> None:
    """Rename every layer tensor the state knows by `shift` layers (L<k> -> L<k + shift>), as
    if the skipped layers had been lowered."""
    cx.writers = {shifted_name(n, shift): f for n, f in cx.writers.items()}
    cx.readers = {shifted_name(n, shift): f for n, f in cx.readers.items()}
    for slot in distinct_slots(cx):
        slot.contents = [None if c is None else
                         ((shifted_name(c[0][0], shift),) + tuple(c[0][1:]), c[1])
                         for c in slot.contents]


def distinct_slots(cx) -> list:
    seen, out = set(), []
    for role in sorted(cx.slots):
        if id(cx.slots[role]) not in seen:
            seen.add(id(cx.slots[role]))
            out.append(cx.slots[role])
    return out
