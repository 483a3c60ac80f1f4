"""Graph: ops on a networkx DiGraph (edges carry data from producer to consumer).

Passes never mutate a Graph: they build a new one with `with_ops` / `rebuild`. The networkx
graph holds the structure (names, program index, edges) and is never changed once built, so
copies that only replace ops share it; the ops live in a dict beside it.
"""
from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from compiler.ir.ops import Op
from compiler.ir.workload import Workload
from compiler.model import ModelSpec


class Graph:
    def __init__(self, model: ModelSpec, workload: Workload, nxg: nx.DiGraph,
                 meta: dict | None = None, order: list[str] | None = None,
                 ops: dict[str, Op] | None = None) -> None:
        """`order`: the topological order of a graph with the same nodes and edges (copies
        that only replace ops or facts keep it instead of sorting again). `ops`: name -> op
        (default: the `op` attribute of each networkx node)."""
        self.model = model
        self.workload = workload
        self.nx = nxg
        self._ops = ops if ops is not None else {n: d["op"] for n, d in nxg.nodes(data=True)}
        self._sources: dict[str, tuple] = {}  # name -> sources, shared by copies (same nx)
        self.meta = dict(meta or {})  # graph-level facts passes record (e.g. dram_bytes)
        self._order = order if order is not None else list(nx.lexicographical_topological_sort(
            nxg, key=lambda name: nxg.nodes[name]["index"]))

    @classmethod
    def from_ops(cls, model: ModelSpec, workload: Workload,
                 ops_and_inputs: Iterable[tuple[Op, tuple[str, ...]]]) -> Graph:
        """Build from (op, names of the ops it reads) in program order."""
        g = nx.DiGraph()
        for index, (op, sources) in enumerate(ops_and_inputs):
            if op.name in g:
                raise ValueError(f"op name {op.name} appears twice")
            g.add_node(op.name, op=op, index=index)
            for port, src in enumerate(sources):
                if src not in g:
                    raise ValueError(f"{op.name} reads {src}, which is not defined before it")
                g.add_edge(src, op.name, port=port)
        # every op reads only ops defined before it, so program order is the topological
        # order that takes the lowest index first (what the constructor would sort out)
        return cls(model, workload, g, order=list(g.nodes))

    def ops(self) -> list[Op]:
        """Ops in a deterministic topological order (program order where it is free)."""
        ops = self._ops
        return [ops[name] for name in self._order]

    def op(self, name: str) -> Op:
        return self._ops[name]

    def sources(self, name: str) -> list[str]:
        """The ops `name` reads, in its input order (a fresh list)."""
        found = self._sources.get(name)
        if found is None:  # the structure never changes: worked out once per name
            found = self._sources[name] = tuple(sorted(
                self.nx.predecessors(name), key=lambda n: self.nx.edges[n, name]["port"]))
        return list(found)

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
        the others get its result under their own name and layer."""
        done: dict = {}
        out = {}
        for op in self.ops():
            key = (op.kind, op.inputs, op.output, op.weight, op.kv, repr(op.attrs))
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
        """This structure (networkx graph, order, sources) with other ops or facts."""
        copy = Graph(self.model, self.workload, self.nx, meta, self._order, ops)
        copy._sources = self._sources
        return copy

    def rebuild(self, ops_and_inputs) -> Graph:
        return Graph.from_ops(self.model, self.workload, ops_and_inputs)

    def __len__(self) -> int:
        return self.nx.number_of_nodes()
