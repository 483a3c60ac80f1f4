"""Graph.from_ops keeps program order as the topological order: every op reads only ops
defined before it, so taking the lowest index first (networkx's lexicographic topological sort
by index) is program order itself. And the edges Graph keeps in plain dicts answer sources,
successors and out-degree as the networkx DiGraph built edge by edge did (it was the graph's
storage before; an op may read one source on two ports, then networkx keeps the last)."""
import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.frontend import load_model
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.ir.tensor import TensorSpec
from compiler.ir.workload import Workload

SPEC = TensorSpec((1, 4))


@st.composite
def programs(draw, unique=True):
    """(op, sources) lists in program order: op i reads any of ops 0..i-1 (`unique`: each at
    most once)."""
    n = draw(st.integers(1, 30))
    out = []
    for i in range(n):
        sources = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=unique)) if i else []
        out.append((Op(f"op{i}", OpKind.ADD, (SPEC,), SPEC), tuple(f"op{s}" for s in sources)))
    return out


@settings(max_examples=60, deadline=None)
@given(programs())
def test_program_order_is_the_lowest_index_first_topological_order(ops_and_inputs):
    graph = Graph.from_ops(load_model("tiny-llama"), Workload(), ops_and_inputs)
    sorted_by_networkx = list(nx.lexicographical_topological_sort(
        graph.nx, key=lambda name: graph.nx.nodes[name]["index"]))
    assert [op.name for op in graph.ops()] == sorted_by_networkx == \
        [op.name for op, _ in ops_and_inputs]


def _networkx_as_built_before(ops_and_inputs) -> nx.DiGraph:
    g = nx.DiGraph()
    for index, (op, sources) in enumerate(ops_and_inputs):
        g.add_node(op.name, index=index)
        for port, src in enumerate(sources):
            g.add_edge(src, op.name, port=port)
    return g


@settings(max_examples=80, deadline=None)
@given(programs(unique=False))
def test_edges_answer_as_networkx(ops_and_inputs):
    graph = Graph.from_ops(load_model("tiny-llama"), Workload(), ops_and_inputs)
    before = _networkx_as_built_before(ops_and_inputs)
    for op, _ in ops_and_inputs:
        name = op.name
        assert graph.sources(name) == sorted(before.predecessors(name),
                                             key=lambda n: before.edges[n, name]["port"])
        assert graph.successors(name) == list(before.successors(name))
        assert graph.out_degree(name) == before.out_degree(name)
    assert list(graph.nx.nodes(data=True)) == list(before.nodes(data=True))
    assert list(graph.nx.edges(data=True)) == list(before.edges(data=True))
    assert len(graph) == before.number_of_nodes()


def test_an_op_reading_one_source_twice_lists_it_once_at_its_last_port():
    a, b, c = (Op(n, OpKind.ADD, (SPEC,), SPEC) for n in "abc")
    graph = Graph.from_ops(load_model("tiny-llama"), Workload(),
                           [(a, ()), (b, ()), (c, ("a", "b", "a"))])
    assert graph.sources("c") == ["b", "a"]  # a's last port (2) is after b's (1)
    assert graph.successors("a") == ["c"] and graph.out_degree("a") == 1
