"""GPU software-stack costs (targets/gpu_runtime.py, hwsim/timing/gpu_stack.py): the achieved-
bandwidth curve, the kernel barrier with its gap, host issue per kernel, and the stretch of a
kernel's transfers, each against a hand calculation."""
import math

import numpy as np
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.kernels import kernel_graph
from compiler.pipeline import compile_graph, resolve_workload
from compiler.sub_batch import compile_step
from hwsim.memory import DramModel
from hwsim.program_arrays import flatten
from hwsim.simulate import simulate_program
from hwsim.timing import engine
from hwsim.timing.gpu_stack import kernel_of_rows
from targets import TargetError


def test_bandwidth_curve_interpolates_in_log_bytes():
    rt = targets.load_target("h100").runtime
    assert rt.bandwidth_fraction(33554432) == pytest.approx(0.4127)
    assert rt.bandwidth_fraction(1e3) == pytest.approx(0.4127)     # held below the first point
    assert rt.bandwidth_fraction(1e12) == pytest.approx(0.9135)    # and above the last
    middle = math.sqrt(33554432 * 90177536)                          # halfway in log(bytes)
    assert rt.bandwidth_fraction(middle) == pytest.approx((0.4127 + 0.7663) / 2)


def test_curve_and_stack_are_checked_with_one_line():
    with pytest.raises(TargetError, match="kernel_bandwidth_bytes must increase"):
        targets.load_target("h100", ["runtime.kernel_bandwidth_bytes=[2e9, 1e9, 3e9]"])
    with pytest.raises(TargetError, match="stack"):
        targets.load_target("h100", ["runtime.stack=jit"])


def _engine(services, queues, kernel, gap):
    """Rows on MM (queue 2) and MV (queue 3), no tokens, no memory: start/end by the engine."""
    order = np.argsort(queues, kind="stable")
    counts = np.bincount(np.asarray(queues)[order], minlength=6)
    queue_start = np.concatenate([[0], np.cumsum(counts)])
    n = len(services)
    zeros = np.zeros(n, np.int64)
    memory_rows = {"is_mem": np.zeros(n, bool), "is_write": np.zeros(n, bool), "addr": zeros,
                   "rows": zeros, "row_bytes": zeros, "stride": zeros}
    dram = DramModel(targets.load_target("h100").memories["hbm"])
    start, end = engine.run(queue_start, zeros, zeros, np.asarray(services, float)[order],
                            memory_rows, dram, kernel=None if kernel is None else
                            np.asarray(kernel)[order], kernel_gap_s=gap)
    return float(end.max())


def test_kernel_barrier_by_hand():
    # MM: A (kernel 0, 1 s) then B (kernel 1, 1 s); MV: C (kernel 0, 3 s)
    services, queues = [1.0, 1.0, 3.0], [2, 2, 3]
    assert _engine(services, queues, None, 0.0) == pytest.approx(3.0)   # B runs beside C
    # barrier: B waits for kernel 0 (ends at 3 s) plus the 0.5 s gap -> 3.5 + 1 = 4.5
    assert _engine(services, queues, [0, 1, 0], 0.5) == pytest.approx(4.5)


def _decode(target, batch=1):
    wl = resolve_workload(Workload(phase="decode", batch=batch, context=64, quant="fp16"),
                          target)
    program = compile_step(load_model("tiny-llama"), wl, target).program
    return program, simulate_program(program, target, batch)


def test_every_kernel_boundary_pays_the_gap():
    # kernels run one after another under the barrier, so the step grows by gap x (K - 1)
    gap = 7e-6
    base = targets.load_target("h100", ["runtime.stack=compiled",
                                        "runtime.compiled.kernel_gap_s=0"])
    with_gap = targets.load_target("h100", ["runtime.stack=compiled",
                                            f"runtime.compiled.kernel_gap_s={gap}"])
    program, r0 = _decode(base)
    _, r1 = _decode(with_gap)
    kernels = int(kernel_of_rows(flatten(program), "inductor").max()) + 1
    assert kernels > 10
    assert r1["seconds"] - r0["seconds"] == pytest.approx(gap * (kernels - 1), rel=1e-6)


def test_eager_host_issue_bounds_the_step():
    host = 1e-3  # far longer than any tiny-llama kernel: the step is host-bound
    t = targets.load_target("h100", ["runtime.stack=eager",
                                     f"runtime.eager.kernel_host_issue_s={host}"])
    program, r = _decode(t)
    kernels = int(kernel_of_rows(flatten(program), "none").max()) + 1
    # the last kernel is issued at (K - 1) x host and then runs for less than one issue time
    assert (kernels - 1) * host <= r["seconds"] < kernels * host


def test_hf_transformers_kernels_stand_for_840_launches_per_579_ops():
    # the same host time per launch; HF's grouping issues 840 / 579 launches per kernel (its
    # modules are chains of small kernels), vLLM 0.1's grouping one per kernel
    host = 1e-3
    sets = ["runtime.stack=eager", f"runtime.eager.kernel_host_issue_s={host}"]
    hf = targets.load_target("h100", [*sets, "runtime.eager.kernel_fusion=hf-transformers"])
    program, r = _decode(hf)
    kernels = int(kernel_of_rows(flatten(program), "hf-transformers").max()) + 1
    per_kernel = host * 840 / 579
    assert (kernels - 1) * per_kernel <= r["seconds"] < kernels * per_kernel
    vllm = targets.load_target("h100", [*sets, "runtime.eager.kernel_fusion=vllm-0.1"])
    program, r = _decode(vllm)
    kernels = int(kernel_of_rows(flatten(program), "vllm-0.1").max()) + 1
    assert (kernels - 1) * host <= r["seconds"] < kernels * host


def test_a100_hf_calibration_step_is_840_launches_of_26_3_us():
    # FlightLLM artifact, HF eager: 22.10 ms per step; 840 launches x 26.3 us = 22.09 ms
    eager = targets.load_target("a100-80gb").runtime.eager
    assert eager.kernel_fusion == "hf-transformers"
    assert 579 * (840 / 579) * eager.kernel_host_issue_s == pytest.approx(22.10e-3, rel=1e-3)


def test_a_kernel_streams_at_the_curve_bandwidth():
    t = targets.load_target("h100", ["runtime.stack=compiled"])
    program = compile_graph(kernel_graph("gemv", (4096, 11008), "fp16"), t).program
    seconds = simulate_program(program, t, 1)["seconds"]
    weight_bytes = 4096 * 11008 * 2
    moved = float(flatten(program).fields["rows"][np.isin(flatten(program).queue, [0, 1])]
                  @ flatten(program).fields["row_bytes"][np.isin(flatten(program).queue, [0, 1])])
    assert moved >= weight_bytes
    fraction = t.runtime.bandwidth_fraction(moved)
    assert fraction == pytest.approx(0.7663, abs=0.002)
    # the transfers dominate: within 5 % of bytes / (3.35 TB/s x f(bytes)) (35 us)
    assert seconds == pytest.approx(moved / (3350e9 * fraction), rel=0.05)


def test_stack_none_changes_nothing():
    a = targets.load_target("h100")
    b = targets.load_target("h100", ["runtime.stack=none"])
    assert _decode(a)[1]["seconds"] == _decode(b)[1]["seconds"]
