"""Eager-mode kernel issue (hwsim.timing.host_issue), FlightLLM's per-core HBM channels and
MV-mode DSP chains, checked against hand arithmetic."""
import numpy as np
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.memory import DramModel, dram_params
from hwsim.memory.kernel import dram_locate
from hwsim.simulate import simulate_program
from hwsim.timing.host_issue import kernel_issue_s


def test_kernel_issue_ranks_ops_in_program_order():
    target = targets.load_target("v100s", ["units.sm.kernel_launch_s=1e-5"])
    # rows of ops 0, 0, 3, 5, 5 and an op-less row; op 3 runs on no unit (a plain LD: a copy
    # kernel on a GPU, e.g. vLLM's reshape_and_cache)
    op_index = np.array([0, 0, 3, 5, 5, -1])
    units = ["sm", "sm", None, "sm", "sm", None]
    # kernels in order: op 0 (rank 0), op 3 (rank 1), op 5 (rank 2); the op-less row: no bound
    assert kernel_issue_s(op_index, units, target) == pytest.approx([0, 0, 1e-5, 2e-5, 2e-5, 0])
    assert kernel_issue_s(op_index, units, targets.load_target("v100s")) is None


def test_vllm_stack_launches_fused_kernels():
    target = targets.load_target("v100s", ["units.sm.kernel_launch_s=1e-5",
                                           "units.sm.kernel_fusion=vllm-0.1"])
    names = ["L0.attn_norm", "L0.q_proj", "L0.k_proj", "L0.v_proj", "L0.q_rope", "L0.k_rope",
             "L0.kv_write", "L0.attn_score", "L0.softmax", "L0.attn_context", "L0.o_proj",
             "L1.q_proj"]
    op_index = np.arange(len(names))
    units = ["sm"] * len(names)
    # vLLM 0.1.x: norm | qkv_proj | rotary | reshape_and_cache | paged attention | o_proj, then
    # the next layer's qkv_proj is a new kernel: ranks 0 1 1 1 2 2 3 4 4 4 5 6
    want = np.array([0, 1, 1, 1, 2, 2, 3, 4, 4, 4, 5, 6]) * 1e-5
    assert kernel_issue_s(op_index, units, target, names) == pytest.approx(want)
    # without the stack (or without names) every op is its own kernel
    plain = targets.load_target("v100s", ["units.sm.kernel_launch_s=1e-5"])
    assert kernel_issue_s(op_index, units, plain, names) == pytest.approx(op_index * 1e-5)
    assert kernel_issue_s(op_index, units, target) == pytest.approx(op_index * 1e-5)


def test_llama2_decode_step_is_12_vllm_kernels_per_layer():
    target = targets.load_target("a100", ["units.sm.kernel_launch_s=1.0",
                                          "units.sm.kernel_fusion=vllm-0.1"])
    program = compile_model(load_model("tiny-llama"), Workload(phase="decode", context=16),
                            target).program
    from hwsim.program_arrays import flatten
    from hwsim.service import unit_of_rows
    a = flatten(program)
    issue = kernel_issue_s(a.op_index, unit_of_rows(a, target), target, a.op_names)
    # tiny-llama, 2 layers: embed + 2 x 12 (norm, qkv, rotary, cache write, attention, o_proj,
    # add, norm, gate_up, silu_and_mul, down, add) + final norm + lm_head = 27 kernels, the
    # last issued at 26 x 1 s; unfused, each of the 2 x 18 + 3 = 39 ops is one
    assert issue.max() == 26.0
    plain = targets.load_target("a100", ["units.sm.kernel_launch_s=1.0"])
    assert kernel_issue_s(a.op_index, unit_of_rows(a, plain), plain, a.op_names).max() == 38.0


def _decode(target):
    program = compile_model(load_model("tiny-llama"), Workload(phase="decode", context=16),
                            target).program
    return program, simulate_program(program, target, 1)


def test_a_host_bound_step_lasts_kernels_times_launch():
    launch = 1e-3  # far longer than any tiny-llama kernel
    program, fast = _decode(targets.load_target("v100s"))
    slow_target = targets.load_target("v100s", [f"units.sm.kernel_launch_s={launch}"])
    _, slow = _decode(slow_target)
    a = fast["_detail"]["arrays"]
    # on a GPU every op is a kernel (compute on the SMs, or a copy: KV write, embedding)
    kernels = len(np.unique(a.op_index[a.op_index >= 0]))
    # the last kernel is issued at (kernels - 1) x launch and runs no longer than the whole
    # unbounded step
    assert (kernels - 1) * launch <= slow["seconds"] <= (kernels - 1) * launch + fast["seconds"]


def test_u280_streams_over_its_24_connected_channels():
    hbm = targets.load_target("flightllm-u280").memories["hbm"]
    p = dram_params(hbm)
    # 256 B chunks: the 24th comes back to channel 0, next bank (3 cores x 8 channels)
    assert dram_locate(p, 23 * 256)[:2] == (23, 0)
    assert dram_locate(p, 24 * 256)[:2] == (0, 1)
    model, t = DramModel(hbm), 0.0
    for i in range(32):
        t = model.transfer(t, i << 21, 1, 1 << 21)
    # 64 MiB at 0.7 of 24 channels x 14.375 GB/s = 241.5 GB/s (artifact same-channel
    # efficiency), to within 2 %
    assert (64 << 20) / t == pytest.approx(0.7 * 24 * 14.375e9, rel=0.02)


def test_gemv_runs_on_the_narrower_mv_datapath():
    target = targets.load_target("flightllm-u280")
    program, r = _decode(target)
    a, service = r["_detail"]["arrays"], r["_detail"]["end"] - r["_detail"]["start"]
    from isa import Opcode
    gemv = np.flatnonzero(a.opcode == int(Opcode.GEMV))
    assert len(gemv)
    f = a.fields
    for i in gemv[:20]:
        # MV mode: 3 cores x 64 chains of 16 DSPs, one token: ceil(k/16) x ceil(n/192) folds of
        # one cycle each, + 16 fill + 1 overflow adjust, at 225 MHz (artifact MV 64 x 16)
        folds = -(-int(f["k"][i]) // 16) * -(-int(f["n"][i]) // 192) * int(f["count"][i])
        assert service[i] == pytest.approx((folds * int(f["m"][i]) + 17) / 225e6, rel=1e-9)
