"""Graph.from_ops keeps program order as the topological order: every op reads only ops
defined before it, so taking the lowest index first (networkx's lexicographic topological sort
by index, what Graph computes when given no order) is program order itself."""
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
def programs(draw):
    """(op, sources) lists in program order: op i reads any of ops 0..i-1."""
    n = draw(st.integers(1, 30))
    out = []
    for i in range(n):
        sources = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
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
