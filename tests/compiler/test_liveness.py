"""compiler/liveness.py and the off-chip activation pool of passes/allocate.py.

Hand figures for FirstFitPool: sizes round up to the alignment; a tensor is live through its
last reader's index and free after it; first-fit takes the lowest gap."""
import networkx as nx
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.liveness import FirstFitPool
from compiler.pipeline import lower

PAGE = 4096


def test_first_fit_reuses_the_bytes_of_dead_tensors():
    pool = FirstFitPool(None, 64)
    assert pool.place(100, last_use=2) == 0          # [0, 128) live through op 2
    assert pool.place(64, last_use=5) == 128         # [128, 192)
    pool.free_dead(3)                                # op 3: the first tensor is dead
    assert pool.place(128, last_use=6) == 0          # fits the freed gap exactly
    assert pool.place(1, last_use=6) == 192          # no gap below: the top
    assert pool.peak_bytes == 256


def test_a_bounded_pool_refuses_what_has_no_gap():
    pool = FirstFitPool(256, 64)
    assert pool.place(128, last_use=1) == 0
    assert pool.place(192, last_use=1) is None       # 128 + 192 > 256
    pool.free_dead(2)
    assert pool.place(192, last_use=3) == 0


def _spilled(graph):
    """(name, address, bytes, producer index, last reader index) of every off-chip activation
    that some op reads, from the graph alone."""
    ops = graph.ops()
    index = {op.name: i for i, op in enumerate(ops)}
    out = []
    for op in ops:
        home = op.attr("home")
        readers = list(graph.nx.successors(op.name))
        if home and home[0] == "dram" and readers:
            out.append((op.name, home[1], -(-op.output.nbytes // PAGE) * PAGE, index[op.name],
                        max(index[r] for r in readers)))
    return out


@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_off_chip_activations_share_bytes_only_when_their_lifetimes_do_not_overlap(phase):
    # FlightLLM with always-on-chip decode off spills every activation: before, each had its own
    # range for the whole program (pool = sum of the sizes)
    target = targets.load_target("flightllm-u280", ["mechanisms.always_on_chip_decode=false"])
    g = lower(load_model("tiny-llama"), Workload(phase=phase, seq=16, context=16), target)
    spilled = _spilled(g)
    assert len(spilled) > 10
    for a in spilled:
        for b in spilled:
            if a[0] < b[0] and a[3] <= b[4] and b[3] <= a[4]:   # both live at some op
                assert a[1] + a[2] <= b[1] or b[1] + b[2] <= a[1], (a, b)
    # the pool is at least the most bytes live at once and well below their sum
    peak_live = max(sum(s[2] for s in spilled if s[3] <= i <= s[4])
                    for i in range(len(g.ops())))
    total = sum(s[2] for s in spilled)
    assert peak_live <= g.meta["activation_bytes"] < total / 3
    # the layout is weights, KV (2 layers x K, V regions of under a page each: 4 pages), the
    # pool, the workspace
    assert g.meta["kv_bytes"] == 4 * PAGE
    assert g.meta["dram_bytes"] == g.meta["weight_bytes"] + g.meta["kv_bytes"] + \
        g.meta["activation_bytes"] + g.meta["workspace_bytes"]


def test_llama2_7b_prefill_at_batch_384_no_longer_needs_hundreds_of_gigabytes():
    # 384 x 128 prompt tokens on an 80 GiB A100: weights 6,738,415,616 x 2 B, KV 2 x 32 layers
    # x 32 heads x 128 x 256 positions x 384 x 2 B; before: refused needing 350 GB
    target = targets.load_target("a100", ["memories.hbm.capacity_bytes=85899345920"])
    g = lower(load_model("llama2-7b"), Workload(phase="prefill", batch=384, seq=128,
                                                kv_capacity=256), target)
    assert g.meta["kv_bytes"] == 2 * 32 * 32 * 128 * 256 * 384 * 2
    assert g.meta["weight_bytes"] == pytest.approx(6738415616 * 2, rel=1e-4)
    # the MLP's gate, up and product (384 x 128 x 11008 x 2 B each) and the residual are live
    # at once: the pool holds at least them, and far less than the ~40 spilled tensors a layer
    mlp = 3 * 384 * 128 * 11008 * 2 + 384 * 128 * 4096 * 2
    assert mlp <= g.meta["activation_bytes"] < 2 * mlp
    assert nx.is_directed_acyclic_graph(g.nx)
