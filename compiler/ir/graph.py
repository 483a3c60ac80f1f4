"""Graph: ops and the data edges between them (producer -> consumer).

Passes never mutate a Graph: they build a new one with `with_ops` / `rebuild`. The structure
(names, program order, edges) is never changed once built, so copies that only replace ops share
it; the ops live in a dict beside it. The structure is plain dicts of names (what the passes
read: sources, successors); `nx` gives it as a networkx DiGraph, built on first use, for
callers that want graph algorithms.
"""
from __future__ import annotations

from collections.abc import Iterable

from compiler.ir.ops import Op
from compiler.ir.workload import Workload
from compiler.model import ModelSpec


class _Structure:
    """Names in program order (which is a topological order: every op reads only ops defined
    before it) and each op's sources as given, port by port. Shared by every copy."""

    __slots__ = ("order", "raw", "preds", "_succ", "_nx")

    def __init__(self, order: list[str], raw: dict[str, tuple]) -> None:
        self.order = order
        self.raw = raw      # name -> the names it reads, one per input port (repeats kept)
        self.preds = {}     # name -> each source once, ordered by its (last) port
        for name, sources in raw.items():
            self.preds[name] = sources if len(set(sources)) == len(sources) else \
                _by_last_port(sources)
        self._succ = None
        self._nx = None

    def successors(self) -> dict[str, list[str]]:
        """name -> the ops reading it, each once, in program order."""
        if self._succ is None:
            succ: dict[str, list[str]] = {name: [] for name in self.order}
            for name in self.order:
                for src in self.preds[name]:
                    succ[src].append(name)
            self._succ = succ
        return self._succ

    def as_networkx(self):
        """The networkx DiGraph the edges describe: nodes with their program `index`, edges
        with the input `port` (the last one where an op reads a source twice)."""
        if self._nx is None:
            import networkx as nx
            g = nx.DiGraph()
            for index, name in enumerate(self.order):
                g.add_node(name, index=index)
            for name in self.order:
                for port, src in enumerate(self.raw[name]):
                    g.add_edge(src, name, port=port)
            self._nx = g
        return self._nx


def _by_last_port(sources: tuple) -> tuple:
    """Each source once, in first-seen order, then stably by the last port it is read on."""
    last = {}
    for port, src in enumerate(sources):
        last[src] = port
    return tuple(sorted(last, key=last.__getitem__))


class Graph:
    def __init__(self, model: ModelSpec, workload: Workload, structure: _Structure,
                 meta: dict | None, ops: dict[str, Op]) -> None:
        self.model = model
        self.workload = workload
        self._structure = structure
        self._ops = ops
        self.meta = dict(meta or {})  # graph-level facts passes record (e.g. dram_bytes)

    @classmethod
    def from_ops(cls, model: ModelSpec, workload: Workload,
                 ops_and_inputs: Iterable[tuple[Op, tuple[str, ...]]]) -> Graph:
        """Build from (op, names of the ops it reads) in program order."""
        ops: dict[str, Op] = {}
        raw: dict[str, tuple] = {}
        for op, sources in ops_and_inputs:
            if op.name in ops:
                raise ValueError(f"op name {op.name} appears twice")
            ops[op.name] = op
            for src in sources:
                if src not in ops:
                    raise ValueError(f"{op.name} reads {src}, which is not defined before it")
            raw[op.name] = tuple(sources)
        # every op reads only ops defined before it, so program order is the topological
        # order that takes the lowest index first
        return cls(model, workload, _Structure(list(ops), raw), None, ops)

    @property
    def nx(self):
        """The structure as a networkx DiGraph (node attr `index`, edge attr `port`)."""
        return self._structure.as_networkx()

    def ops(self) -> list[Op]:
        """Ops in a deterministic topological order (program order where it is free)."""
        ops = self._ops
        return [ops[name] for name in self._structure.order]

    def op(self, name: str) -> Op:
        return self._ops[name]

    def sources(self, name: str) -> list[str]:
        """The ops `name` reads, in its input order (a fresh list)."""
        return list(self._structure.preds[name])

    def successors(self, name: str) -> list[str]:
        """The ops reading `name`, each once, in program order (a fresh list)."""
        return list(self._structure.successors()[name])

    def out_degree(self, name: str) -> int:
        """How many ops read `name`."""
        return len(self._structure.successors()[name])

    def with_ops(self, replacement: dict[str, Op]) -> Graph:
        """A copy with some ops replaced (same names, same edges: the structure is shared)."""
        unknown = next((name for name in replacement if name not in self._ops), None)
        if unknown is not None:
            raise KeyError(f"no op named {unknown!r} in the graph")
        return self._copy(self.meta, {**self._ops, **replacement})

    def with_meta(self, **facts) -> Graph:
        return self._copy({**self.meta, **facts}, self._ops)

    def map_ops(self, fn) -> Graph:
        """A copy with every op replaced by fn(op)."""
        return self._copy(self.meta, {op.name: fn(op) for op in self.ops()})

    def map_ops_by_content(self, fn) -> Graph:
        """map_ops for an `fn` that reads only an op's content, never its name or layer (it
        passes them through; they may appear in its error messages): ops equal but for name
        and layer (the same projection in every decoder layer) share one call of `fn`, and
        the others get its result under their own name and layer. The key holds the tensor
        specs by identity (every op is alive while it is used, so equal ids are the same
        object): equal specs that are distinct objects only cost another call of `fn`; the
        builder and the passes share one object across the layers' copies. The attrs are
        keyed by their repr, made once per attrs dict (the copies a call returns share it)."""
        done: dict = {}
        reprs: dict = {}  # id(attrs) -> repr(attrs); every op (and so its dict) stays alive
        out = {}
        for op in self.ops():
            attrs = op.attrs
            text = reprs.get(id(attrs))
            if text is None:
                text = reprs[id(attrs)] = repr(attrs)
            key = (op.kind, *map(id, op.inputs), id(op.output), id(op.weight), id(op.kv), text)
            new = done.get(key)
            if new is None:
                new = fn(op)
                if new.name == op.name and new.layer == op.layer:
                    done[key] = new
            elif new.name != op.name or new.layer != op.layer:
                new = new.renamed(op.name, op.layer)
            out[op.name] = new
        return self._copy(self.meta, out)

    def _copy(self, meta: dict, ops: dict) -> Graph:
        """This structure with other ops or facts."""
        return Graph(self.model, self.workload, self._structure, meta, ops)

    def rebuild(self, ops_and_inputs) -> Graph:
        return Graph.from_ops(self.model, self.workload, ops_and_inputs)

    def __len__(self) -> int:
        return len(self._structure.order)
