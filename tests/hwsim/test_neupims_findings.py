"""Issue 18 findings 1, 2, 4 and 15 on `neupims` (and the same GEMV threshold on the mobile
NPU): step time monotone in batch with no cliff where few-row products change unit,
utilisations that are busy fractions, --kv-bits not silently ignored under PIM attention, the
whole batch's KV cache in the capacity check, and sub-batch interleaving never slower than off.
Expected values are hand formulas or relations between runs."""
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.sub_batch import compile_step
from hwsim.simulate import simulate_program
from targets import load_target

from hwsim.api.flows.run_model import simulate_model

NEUPIMS = load_target("neupims")
BATCHES = (1, 2, 3, 4, 8, 9, 16, 32, 64)


def _seconds(model, target, **workload):
    return simulate_model(model, Workload(phase="decode", **workload), target)["seconds"]


@pytest.mark.parametrize("model, context", [("gpt3-7b", 512), ("llama2-7b", 1024)])
def test_decode_step_is_monotone_in_batch_without_a_cliff(model, context):
    """Finding 1 / 15: 58 ms at batch 8 against 19 ms at batch 9 (llama2-7b, 1024), and
    17, 32, 57, 18 ms at batch 1, 4, 8, 16 (gpt3-7b, 512). Decode is weight-bound at these
    batches, so one more sequence may cost little, never less, and never 3x."""
    times = [_seconds(model, NEUPIMS, batch=b, context=context, layers=2) for b in BATCHES]
    for (b0, t0), (b1, t1) in zip(zip(BATCHES, times), zip(BATCHES[1:], times[1:])):
        assert t0 <= t1, f"batch {b0}: {t0:.6g} s > batch {b1}: {t1:.6g} s"
    assert times[BATCHES.index(9)] <= 1.05 * times[BATCHES.index(8)]


def test_mobile_decode_is_monotone_in_batch_and_stays_on_the_cpu_at_batch_1():
    """The same GEMV threshold on mllm-npu-sd8gen3: 68 ms at batch 8, 33 ms at batch 9. At
    batch 1 both the CPU and the NPU wait on LPDDR5X, so decode stays on the CPU (the
    paper's system, docs/papers/mllm-npu.md)."""
    target = load_target("mllm-npu-sd8gen3")
    times = [_seconds("qwen1.5-1.8b", target, batch=b, context=512, layers=2)
             for b in (1, 2, 4, 8, 9, 16)]
    assert times == sorted(times)
    one = simulate_model("qwen1.5-1.8b", Workload(phase="decode", batch=1, context=512,
                                                   layers=2), target)
    assert one["instructions"]["MM"] == 0


def test_systolic_rate_for_few_rows_by_hand():
    """A weight fold is held `rows` = 128 cycles by its preload, so m activation rows reach
    m x 128 MACs per cycle per array: 8 arrays x 128 x m x 1 GHz; the vector unit's lanes
    reach 8 x 128 x 1 GHz whatever m."""
    for m in (1, 2, 8, 128, 300):
        assert NEUPIMS.matrix_macs_per_s("systolic", "fp16", m) == 8 * 128 * min(m, 128) * 1e9
        assert NEUPIMS.matrix_macs_per_s("vector", "fp16", m) == 8 * 128 * 1e9


@pytest.mark.parametrize("batch, queue", [(1, "MV"), (2, "MM"), (8, "MM"), (9, "MM")])
def test_few_row_products_run_on_the_faster_unit(batch, queue):
    """Hand roofline for a fp16 weight of W elements at m rows: memory 2W / 1.024e12 s;
    vector m W / 1.024e12 s (saturated from m = 2); systolic m W / (1.024e12 m). m = 1: both
    wait on memory with slack, the GEMV queue keeps it; m >= 2: the vector unit is saturated."""
    compiled = compile_step(load_model("gpt3-7b"), Workload(phase="decode", batch=batch,
                                                           context=512, layers=1), NEUPIMS)
    q_proj = compiled.graph.op("L0.q_proj")
    assert q_proj.attr("queue") == queue


def test_busy_fractions_by_hand():
    """Two channels; channel 0 busy [0, 1) and [1, 2), channel 1 [0, 1), an all-bank row
    [2, 3) on both, a vector row [0, 3) on its own: PIM (2 + 1 + 1 + 1) / 2 channels / 4 s =
    0.625 (summing rows gave 1.25), vector 3 / 4."""
    from hwsim.utilization import busy_fractions
    target = SimpleNamespace(units={"pim": SimpleNamespace(memory="hbm")},
                             memories={"hbm": SimpleNamespace(channels=2)})
    start, end = np.array([0.0, 1.0, 0.0, 2.0, 0.0]), np.array([1.0, 2.0, 1.0, 3.0, 3.0])
    resource, channel = np.array([0, 0, 0, 0, 1]), np.array([0, 0, 1, -1, -1])
    got = busy_fractions(["pim", "vector"], resource, channel, start, end, 4.0, target)
    assert got == {"pim": 0.625, "vector": 0.75}


@pytest.mark.parametrize("batch, context", [(64, 512), (16, 512), (256, 64)])
def test_every_utilisation_is_a_busy_fraction(batch, context):
    """Finding 2: 7.1 at batch 64, context 512 (32 channels' busy time summed); batch 256 is
    the interleaved program, whose two sub-batches share each unit."""
    compiled = compile_step(load_model("gpt3-7b"), Workload(phase="decode", batch=batch,
                                                           context=context, layers=2), NEUPIMS)
    result = simulate_program(compiled.program, NEUPIMS, batch)
    assert set(result["utilization"]) >= {"pim", "systolic", "memory"}
    for unit, value in result["utilization"].items():
        assert 0.0 <= value <= 1.0, (unit, value)


def test_whole_batch_kv_cache_counts_in_the_capacity_check():
    """Finding 15: batch 256 reported one sub-batch's 34.43 GB. By hand: 2 (K, V) x 32
    layers x 32 heads x 128 x (512 + 1) positions x 256 sequences x 2 B = 68.85 GB."""
    expected_gb = 2 * 32 * 32 * 128 * 513 * 256 * 2 / 1e9
    with pytest.raises(CompilerError) as err:
        compile_step(load_model("llama2-7b"), Workload(phase="decode", batch=256,
                                                       context=512), NEUPIMS)
    kv_gb = float(re.search(r"KV cache ([0-9.]+) GB", str(err.value)).group(1))
    assert kv_gb == pytest.approx(expected_gb, abs=0.006)


def test_sub_batch_interleaving_is_never_slower_than_off():
    """Finding 15: from batch 256 each half batch streams the weights once, which a short
    context's attention does not repay (22.5 ms off, 29.6 ms on at context 128)."""
    off = load_target("neupims", overrides=["mechanisms.sub_batch_interleaving=false"])
    on_s = _seconds("gpt3-7b", NEUPIMS, batch=256, context=128, layers=2)
    off_s = _seconds("gpt3-7b", off, batch=256, context=128, layers=2)
    assert on_s <= off_s
    assert _seconds("gpt3-7b", NEUPIMS, batch=255, context=128, layers=2) <= on_s


def test_kv_bits_under_pim_attention_are_refused_in_one_line():
    """Finding 4: 16 / 8 / 4 bits gave the same time; the PIM multiplies fp16 operands
    straight from the banks, so a narrower cache is refused (exit 2, one line naming the
    field), and with pim_attention off the bits change the step."""
    run = subprocess.run([sys.executable, "-m", "hwsim.cli.main", "simulate", "llama2-7b", "-t",
                          "neupims", "--phase", "decode", "--batch", "8", "--context", "256",
                          "--layers", "1", "--kv-bits", "8"], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "units.pim.dtype = fp16" in lines[0] and "int8" in lines[0]
    npu = load_target("neupims", overrides=["mechanisms.pim_attention=false"])
    times = [_seconds("llama2-7b", npu, batch=8, context=1024, layers=1, kv_bits=k)
             for k in (16, 8, 4)]
    assert times[0] > times[1] > times[2]
