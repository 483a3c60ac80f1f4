"""The simulation set-up's paths for small programs (a kernel's dozen rows) give what the
whole-array paths give, and the token counts are what a hand count gives (branch kgemm,
docs/scale.md)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isa
import hwsim.program_arrays as program_arrays
import hwsim.service as service
import targets
from compiler.kernels import kernel_graph, parse_shape
from compiler.pipeline import compile_graph
from hwsim.timing.engine import N_QUEUES, token_counts
from isa import Queue

# (kind, shape, target, dtype): programs of 5 to about 200 rows, every instruction format
KERNELS = [("gemm", "256,4096,4096", "neupims", "fp16"), ("gemm", "100,300,700", "a100", "int8"),
           ("gemv", "4096,4096", "flightllm-u280", "int8"),
           ("attention", "4,8,100,64", "a100", "fp16"),
           ("attention", "1,32,512,128", "neupims", "fp16"),
           ("softmax", "128,4096", "mllm-npu-sd8gen3", "int8"),
           ("layernorm", "7,4096", "h100", "fp16"), ("hand", "", "a100", "")]


def _program(kind, shape, target_name, dtype):
    target = targets.load_target(target_name)
    if kind == "hand":  # weights narrower than the activations (w4a16), three formats
        text = (f".target {target_name}\n"
                "LOAD buf=0 dtype=int4 sram_addr=0 dram_addr=0x1000 rows=2 row_bytes=64\n"
                "MATMUL dtype_act=fp16 dtype_wgt=int4 dtype_out=fp16 m=8 n=64 k=32 act_buf=0 "
                "wgt_buf=0 wgt_addr=0x200 out_buf=0 out_addr=0x4000 count=1\n"
                "VADD dtype_in=fp16 dtype_out=fp16 rows=2 cols=32 src0_buf=0 src0_addr=0 "
                "src1_buf=0 src1_addr=0x100 dst_buf=0 dst_addr=0x800 count=3\n")
        program = isa.assemble(text, "hand")
        return isa.Program(target.name, target.fingerprint(), program.streams), target
    graph = kernel_graph(kind, parse_shape(kind, shape), dtype)
    return compile_graph(graph, target).program, target


def _whole_array_paths(monkeypatch):
    """Every small-program switch off: the np.unique and per-opcode paths run at any size."""
    monkeypatch.setattr(program_arrays, "SMALL_ROWS", -1)
    monkeypatch.setattr(service, "SMALL_ROWS", -1)


@pytest.mark.parametrize("case", KERNELS, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_flatten_small_path_equals_per_opcode_path(case, monkeypatch):
    program, target = _program(*case)
    assert 0 < len(program) <= program_arrays.SMALL_ROWS
    small = program_arrays.flatten(program)
    if case[0] == "hand":  # by hand: the weight dtype where the format has one, else the input's
        d = isa.Dtype
        assert small.dtype_w.tolist() == [int(d.INT4), int(d.INT4), int(d.FP16)]
        assert small.dtype_in.tolist() == [int(d.INT4), int(d.FP16), int(d.FP16)]
        assert small.fields["m"].tolist() == [0, 8, 0]  # 0 where the format lacks the column
    _whole_array_paths(monkeypatch)
    whole = program_arrays.flatten(program)
    for f in dataclasses.fields(small):
        x, y = getattr(small, f.name), getattr(whole, f.name)
        if f.name == "fields":
            assert x.keys() == y.keys()
            pairs = [(x[c], y[c]) for c in x]
        else:
            pairs = [(x, y)]
        for u, v in pairs:
            if isinstance(u, np.ndarray):
                assert u.dtype == v.dtype and u.flags.c_contiguous, f.name
                np.testing.assert_array_equal(u, v, err_msg=f.name)
            else:
                assert u == v, f.name


@pytest.mark.parametrize("case", KERNELS, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_unit_names_and_service_equal_on_both_paths(case, monkeypatch):
    program, target = _program(*case)
    a = program_arrays.flatten(program)
    units = service.unit_of_rows(a, target)
    seconds = service.service_seconds(a, target, units)
    _whole_array_paths(monkeypatch)
    whole = service.unit_of_rows(a, target)
    assert whole == units and whole.indexed[0] == units.indexed[0]
    assert whole.indexed[1].dtype == units.indexed[1].dtype == np.int64
    np.testing.assert_array_equal(whole.indexed[1], units.indexed[1])
    assert service.service_seconds(a, target, units).tobytes() == seconds.tobytes()


@pytest.mark.parametrize("case", KERNELS[:4], ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_work_kept_once_per_arrays_equals_a_fresh_count(case):
    """macs, vector_ops, dequant_weights and the byte sums are worked out once per
    ProgramArrays and kept read-only: equal to the same count on a fresh flatten, by hand
    for the MACs (m x n x k x count of each matrix row)."""
    from hwsim.energy import buffer_bytes, dram_bytes
    program, _ = _program(*case)
    a, fresh = program_arrays.flatten(program), program_arrays.flatten(program)
    for count in (service.macs, service.vector_ops, service.dequant_weights):
        first = count(a)
        assert count(a) is first and not first.flags.writeable
        np.testing.assert_array_equal(first, count(fresh))
    f = a.fields
    matrix = np.isin(a.opcode, [int(o) for o in service.MATRIX])
    np.testing.assert_array_equal(service.macs(a), np.where(
        matrix, f["m"] * f["n"] * f["k"] * f["count"], 0))  # dense kernels
    reads, writes = buffer_bytes(a, 3)
    assert buffer_bytes(a, 3)[0] is reads and not reads.flags.writeable
    with pytest.raises(ValueError):
        reads[0] = 1.0
    assert dram_bytes(a) == dram_bytes(fresh)
    # by hand, from the instructions: rows x row_bytes of every LD (read) and ST (written);
    # elements x passes of every VEC row, the passes counted from the opcode's name
    moved = {q: sum(i.fields["rows"] * i.fields["row_bytes"] for i in program.streams[q])
             for q in (Queue.LD, Queue.ST)}
    assert dram_bytes(a) == (float(moved[Queue.LD]), float(moved[Queue.ST]))
    vec = [i for i in program.streams[Queue.VEC]]
    ops = service.vector_ops(a)[a.queue == int(Queue.VEC)]
    assert len(ops) == len(vec)
    for instr, counted in zip(vec, ops):
        elements = instr.fields["rows"] * instr.fields["cols"] * instr.fields["count"]
        assert counted % elements == 0 and counted >= elements  # a whole number of passes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=40))
def test_per_value_small_path_equals_unique_path(values):
    array = np.array(values, np.int64)
    calls = []

    def fn(v):
        calls.append(v)
        return (v * 0.37 + 1.0, float(v % 3))  # a pair, as energy's costs are
    small = service.per_value(array, fn)
    assert sorted(calls) == sorted(set(values))  # once per distinct value
    # by hand: fn of every row, in row order
    expected = np.array([(v * 0.37 + 1.0, float(v % 3)) for v in values])
    assert small.shape == expected.shape and small.tobytes() == expected.tobytes()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, N_QUEUES - 1), st.integers(0, 63)), max_size=60))
def test_token_counts_by_hand(rows):
    rows = sorted(rows)  # rows come queue by queue
    queues = np.array([q for q, _ in rows], np.int64)
    release = np.array([m for _, m in rows], np.int64)
    expected = [0] * (N_QUEUES * N_QUEUES)
    for q, mask in rows:
        for d in range(N_QUEUES):
            if mask >> d & 1:
                expected[q * N_QUEUES + d] += 1
    counts = token_counts(queues, release)
    assert counts.dtype == np.int64 and counts.tolist() == expected


@pytest.mark.parametrize("case", [KERNELS[0], KERNELS[4]], ids=lambda c: f"{c[0]}-{c[2]}")
def test_no_checkpoint_path_equals_the_periods_path(case, monkeypatch):
    """A program without a layer plan on a timed DRAM (neupims) runs in one engine step with
    _Periods' report, never building _Periods: the same JSON `reuse`, starts and ends as the
    path that sets up the row-period checkpoints (switched on by pointing P_TIMED at the
    always-0 P_STEPPED). An untimed memory (a100) still builds them."""
    from hwsim.memory import kernel as dram_kernel
    from hwsim.simulate import simulate_program
    from hwsim.timing import layer_reuse, row_periods
    built = []
    real = layer_reuse._Periods
    monkeypatch.setattr(layer_reuse, "_Periods", lambda *a: built.append(1) or real(*a))
    program, target = _program(*case)
    fast = simulate_program(program, target, 1)
    assert not built and fast["reuse"]["row_periods_reason"] == row_periods.TIMED_REASON
    assert fast["reuse"]["layers"] < 3  # no layer plan
    monkeypatch.setattr(layer_reuse, "P_TIMED", dram_kernel.P_STEPPED)
    slow = simulate_program(program, target, 1)
    assert built and fast["reuse"] == slow["reuse"]
    for key in ("start", "end"):
        assert fast["_detail"][key].tobytes() == slow["_detail"][key].tobytes()
    monkeypatch.undo()
    monkeypatch.setattr(layer_reuse, "_Periods", lambda *a: built.append(2) or real(*a))
    program, target = _program(*KERNELS[1])
    simulate_program(program, target, 1)
    assert built[-1] == 2  # a100: no timing table, the periods are looked for
