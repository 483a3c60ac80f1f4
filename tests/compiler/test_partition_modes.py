"""Partition on a unit that serves both matrix queues in two modes (FlightLLM's DSP chains: a
GEMV (MV) mode and a packed MM mode): each mode is estimated on its own, so the faster one runs
the product (issue 18: 7.5 ms at batch 8 in MV mode, 2.9 ms at batch 9 in MM mode, because
both candidates were estimated at the unit's MM peak and tied, leaving the row threshold).
Expected rates and choices are worked out by hand from the cycle formulas."""
import pytest

from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.sub_batch import compile_step
from hwsim.unit_models import dsp_chain_cycles
from targets import load_target

U280 = load_target("flightllm-u280")
CLOCK_HZ = 225e6
MV_MACS_PER_CYCLE = 3 * 64 * 16          # cores x mv_chains_per_core x dsps_per_chain, 1 token
MM_MACS_PER_CYCLE = 3 * 128 * 16 * 2     # cores x chains_per_core x dsps_per_chain x 2 packed


@pytest.mark.parametrize("rows, mm_fraction", [(1, 0), (2, 1), (3, 3 / 4), (8, 1),
                                               (9, 9 / 10), (16, 1)])
def test_mode_rates_by_hand(rows, mm_fraction):
    """MV mode: 3 x 64 chains x 16 DSPs, one row at a time, whatever the row count. MM mode:
    3 x 128 x 16 DSPs x 2 packed rows, ceil(m / 2) cycles per fold, so m rows reach
    m / (2 ceil(m / 2)) of the peak (an odd row leaves half a pack idle); one row has no MM
    mode (FlightLLM compiles a single token as MV only)."""
    mv = U280.matrix_macs_per_s("mpe", "int8", rows, "MV")
    mm = U280.matrix_macs_per_s("mpe", "int8", rows, "MM")
    assert mv == pytest.approx(MV_MACS_PER_CYCLE * CLOCK_HZ, rel=1e-12)
    assert mm == pytest.approx(MM_MACS_PER_CYCLE * mm_fraction * CLOCK_HZ, rel=1e-12)


@pytest.mark.parametrize("rows", [2, 3, 8, 9])
def test_mode_rates_match_the_cycle_formula(rows):
    """The estimate's rates are the simulator's: dsp_chain_cycles over a shape that fills
    every chain (n = 384 x 4, k = 16 x 8), less its one-off fill (16 + 1 adjust cycles)."""
    n, k = 384 * 4, 16 * 8
    macs = rows * n * k
    fill = 16 + 1
    mv_cycles = dsp_chain_cycles(rows, n, k, 1, 3 * 64, 16, 1) - fill
    mm_cycles = dsp_chain_cycles(rows, n, k, 1, 3 * 128, 16, 2) - fill
    assert macs / mv_cycles == pytest.approx(
        U280.matrix_macs_per_s("mpe", "int8", rows, "MV") / CLOCK_HZ, rel=1e-12)
    assert macs / mm_cycles == pytest.approx(
        U280.matrix_macs_per_s("mpe", "int8", rows, "MM") / CLOCK_HZ, rel=1e-12)


@pytest.mark.parametrize("quant, batch, queue", [("w8a8", 1, "MV"), ("w8a8", 2, "MM"),
                                                 ("w8a8", 8, "MM"), ("w8a8", 9, "MM"),
                                                 ("w4a8", 1, "MV"), ("w4a8", 2, "MM")])
def test_decode_projection_runs_in_the_faster_mode(quant, batch, queue):
    """q_proj of LLaMA2-7B, a 4096 x 4096 weight W, at m rows on the U280 (460 GB/s):
    memory W x bytes / 460e9 (w8a8: 36.5 us, w4a8: 18.2 us); MV compute m W / (3,072 x
    225e6) = m x 24.3 us; MM compute ceil(m / 2) x 2 W / (12,288 x 225e6) = ceil(m / 2) x
    12.1 us. w8a8, m = 1: both wait on memory, the GEMV queue keeps it (the artifact's MV
    decode); m = 2..9: MV mode's MACs alone exceed the memory time, MM mode stays under it or
    nearest. w4a8: memory 18.2 us; m = 1 runs in MV mode (24.3 us) all the same, as a single
    row has no MM mode; m = 2: MV 48.5 us, MM 12.1 us, under the memory time."""
    compiled = compile_step(load_model("llama2-7b"),
                            Workload(phase="decode", batch=batch, context=512, layers=1,
                                     quant=quant), U280)
    op = compiled.graph.op("L0.q_proj")
    assert op.attr("queue") == queue
    assert op.attr("opcode") == ("GEMV" if queue == "MV" else "MATMUL")
