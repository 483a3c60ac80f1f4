"""N:M pruning in the reference and the sparsify pass's marks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.builder import build_graph
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.passes import sparsify
from compiler.reference import WeightStore, nm_prune, run_float
from tests.compiler.test_reference import TINY_LLAMA

NM = st.sampled_from([(1, 2), (2, 4), (1, 4), (3, 8), (2, 16), (4, 16), (5, 7)])


def groups_along(w, m, axis):
    """(..., groups, m) view of w's consecutive m-blocks along axis."""
    moved = np.moveaxis(w, axis, -1)
    return moved.reshape(moved.shape[:-1] + (moved.shape[-1] // m, m))


@settings(max_examples=80, deadline=None)
@given(nm=NM, groups=st.integers(1, 5), lead=st.integers(1, 3), n_out=st.integers(1, 6),
       axis=st.sampled_from([-2, 0]), seed=st.integers(0, 2 ** 32 - 1))
def test_nm_prune_keeps_exactly_n_largest_of_every_m(nm, groups, lead, n_out, axis, seed):
    n, m = nm
    rng = np.random.default_rng(seed)
    shape = (lead, groups * m, n_out) if axis == -2 else (groups * m, n_out)
    w = rng.standard_normal(shape).astype(np.float32)   # nonzero almost surely
    pruned = nm_prune(w, n, m, axis=axis)
    assert pruned.shape == w.shape and pruned.dtype == w.dtype
    kept = groups_along(pruned != 0, m, axis)
    assert np.all(kept.sum(axis=-1) == n)
    mags, keep = groups_along(np.abs(w), m, axis), kept
    smallest_kept = np.where(keep, mags, np.inf).min(axis=-1)
    largest_dropped = np.where(keep, -np.inf, mags).max(axis=-1)
    assert np.all(smallest_kept >= largest_dropped)
    np.testing.assert_array_equal(pruned[pruned != 0], w[pruned != 0])   # kept values unchanged


def test_nm_prune_hand_case_ties_and_short_last_group():
    w = np.array([[1.0], [-3.0], [2.0], [-2.0], [5.0], [0.5]])    # K = 6, groups of 4
    got = nm_prune(w, 2, 4)
    np.testing.assert_array_equal(got[:, 0], [0, -3, 2, 0, 5, 0.5])  # tie 2 / -2: lower index
    with pytest.raises(ValueError, match="1 <= n <= m"):
        nm_prune(w, 5, 4)


def marks(graph, key):
    return {op.name for op in graph.ops() if op.attr(key)}


def test_nm_marks_linear_layers_only():
    g = build_graph(load_model("tiny-deepseek-v2"), Workload(phase="decode", sparsity="2:4"))
    out = sparsify.run(g, None)
    want = {op.name for op in g.ops() if op.kind == OpKind.MATMUL
            and op.attr("role") not in ("lm_head", "router")}
    assert marks(out, "sparsity") == want
    assert "L1.expert_down" in want and "L0.o_proj" in want and "L0.q_absorb" in want
    assert all(out.op(n).attr("sparsity") == (2, 4) for n in want)
    assert not marks(g, "sparsity")           # the input graph is unchanged


def test_block_is_refused_with_one_line():
    # it used to mark the attention ops and change no result (tests/invariants/test_options.py)
    with pytest.raises(CompilerError, match=r"^--sparsity block is not modelled: the workload "
                       r"does not say which attention blocks are masked and no unit skips "
                       r"them; use N:M \(e\.g\. 2:4\)$"):
        sparsify.run(build_graph(TINY_LLAMA, Workload(sparsity="block")), None)


@pytest.mark.parametrize("text", [None, "dense"])
def test_dense_changes_nothing(text):
    g = sparsify.run(build_graph(TINY_LLAMA, Workload(sparsity=text)), None)
    assert not marks(g, "sparsity") and not marks(g, "block_sparse")


@pytest.mark.parametrize("text", ["2-4", "4:2", "0:4", "4:4", "a:b", "2:4:8", "blocks"])
def test_malformed_sparsity_is_one_line(text):
    g = build_graph(TINY_LLAMA, Workload(sparsity=text))
    with pytest.raises(CompilerError) as err:
        sparsify.run(g, None)
    assert str(err.value) == (f"malformed --sparsity {text!r}: expected N:M with 1 <= N < M "
                              f"(e.g. 2:4) or 'block'")


def test_reference_uses_the_pruned_weights():
    w = Workload(phase="prefill", batch=1, seq=3, sparsity="2:16")
    dense = build_graph(TINY_LLAMA, w)
    sparse = sparsify.run(dense, None)
    op = sparse.op("L0.mlp_down")
    pruned = WeightStore(sparse).matmul_weight(op)
    assert np.all((groups_along(pruned != 0, 16, 0)).sum(axis=-1) == 2)
    np.testing.assert_array_equal(WeightStore(sparse).matmul_weight(sparse.op("lm_head")),
                                  WeightStore(dense).weight("lm_head"))
    ids = np.array([[1, 2, 3]])
    assert not np.allclose(run_float(dense, ids)["lm_head"], run_float(sparse, ids)["lm_head"])
