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


U280_NM = "flightllm-u280 runs N:M sparsity as 2:16, 4:16, 8:16 (or an equal pattern with M " \
          "dividing 16, e.g. 2:4)"


@pytest.mark.parametrize("text", ["1:3", "3:4", "1:16", "5:8", "3:32"])
def test_patterns_the_dsp_chains_cannot_run_are_refused_in_one_line(text):
    """U280 chains group 16 weights along K and keep 2, 4, 8 (or 16) of them (preset
    sparse_m / sparse_n_values): 1:3 (3 does not divide 16), 3:4 (= 12:16), 1:16, 5:8 (= 10:16)
    and 3:32 (32 does not divide 16) have no such form. 1:3 used to reach the ISA verifier
    as an internal error (issue 18, finding 14); 3:4 used to be accepted."""
    from targets import load_target
    g = build_graph(TINY_LLAMA, Workload(sparsity=text))
    with pytest.raises(CompilerError) as err:
        sparsify.run(g, load_target("flightllm-u280"))
    assert str(err.value) == f"--sparsity {text}: {U280_NM}"


@pytest.mark.parametrize("text, n, m", [("2:4", 2, 4), ("1:8", 1, 8), ("1:2", 1, 2),
                                        ("4:16", 4, 16), ("1:4", 1, 4)])
def test_patterns_equal_to_a_chain_mode_are_accepted(text, n, m):
    from targets import load_target
    g = sparsify.run(build_graph(TINY_LLAMA, Workload(sparsity=text)),
                     load_target("flightllm-u280"))
    assert g.op("L0.q_proj").attr("sparsity") == (n, m)


@pytest.mark.parametrize("target", ["a100", "neupims", "mllm-npu-sd8gen3"])
def test_nm_on_a_target_without_sparse_units_is_refused(target):
    from targets import load_target
    g = build_graph(TINY_LLAMA, Workload(sparsity="2:4"))
    with pytest.raises(CompilerError) as err:
        sparsify.run(g, load_target(target))
    assert str(err.value) == (f"--sparsity 2:4: {target} has no unit that skips pruned weights "
                              f"(N:M runs on DSP chains with sparse_modes nm)")


def test_the_mobile_block_schedule_prefill_refuses_nm_too(hwsim):
    """mllm-NPU's prefill is timed by its block schedule, which compiles no graph: N:M used to
    be accepted there and ignored."""
    out = hwsim("simulate", "tiny-llama", "-t", "mllm-npu-sd8gen3", "--phase", "prefill",
                "--seq", "32", "--sparsity", "2:4")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("hwsim: error: --sparsity 2:4: mllm-npu-sd8gen3 has no unit that skips "
                          "pruned weights (N:M runs on DSP chains with sparse_modes nm)\n")


@pytest.mark.parametrize("text", ["1:3", "3:4"])
def test_cli_refuses_unsupported_sparsity_with_exit_2(hwsim, text):
    out = hwsim("simulate", "tiny-llama", "-t", "flightllm-u280", "--sparsity", text)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"hwsim: error: --sparsity {text}: {U280_NM}\n"
