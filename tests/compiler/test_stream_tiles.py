"""GEMV weight streams (decode linears on the MV queue): balanced tiles of at most 1/8 of the
op, so a larger weight buffer never makes decode slower but for the named end-of-step drain
(issue 18, finding 3: FlightLLM U280 decode was faster with a 2 MiB A buffer than with 8)."""
import math

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.passes.tile import ALIGN, STREAM_TILES, balanced
from compiler.pipeline import compile_model, resolve_workload
from hwsim.api.flows.run_model import simulate_model

U280 = "flightllm-u280"
MIB = 2 ** 20
CORE_HZ = 225e6                       # flightllm-u280 core clock
MV_CHAINS, CHAIN_DSPS = 3 * 64, 16    # MV mode: 64 chains per core x 3 cores, 16 DSPs each


def _gemv_tiles(a_buf_bytes: int) -> dict:
    target = targets.load_target(U280, [f"buffers.a_buf.size_bytes={a_buf_bytes}"])
    workload = resolve_workload(Workload(phase="decode", context=512, layers=1), target)
    graph = compile_model(load_model("llama2-7b"), workload, target).graph
    return {op.name: op.attr("tiles")["tn"] for op in graph.ops()
            if op.kind.value == "matmul" and op.attr("queue") == "MV"}


def test_balanced_tiles_leave_no_short_remainder():
    # 11008 columns in tiles of at most 2048: 6 tiles; 11008 / 6 = 1834.7 -> 1840 (x 16)
    assert balanced(11008, 2048) == 1840
    assert balanced(32000, 2048) == 2000 and balanced(4096, 512) == 512
    for n, tn in ((11008, 2048), (32000, 1008), (4096, 1000), (5504, 752)):
        width = balanced(n, tn)
        tiles = math.ceil(n / width)
        assert tiles == math.ceil(n / tn) and width <= tn and width % ALIGN == 0
        assert n - (tiles - 1) * width > width - tiles * ALIGN  # the last tile is near-full


def test_u280_decode_tiles_by_hand():
    # a_buf holds weights only: two slots of half its size; INT4 weights, K whole.
    # 2 MiB: 1 MiB / (4096 x 0.5 B) = 512 columns (down: 1 MiB / (11008 x 0.5) = 190 -> 176).
    # 8 MiB: 2048 columns fit, but a stream keeps >= 8 tiles: 4096 / 8 = 512,
    # 11008 / 8 = 1376; the LM head (32,000) in 16 balanced tiles of 2000
    assert STREAM_TILES == 8
    small, large = _gemv_tiles(2 * MIB), _gemv_tiles(8 * MIB)
    assert small["L0.q_proj"] == small["lm_head"] == 512 and small["L0.mlp_down"] == 176
    assert (large["L0.q_proj"], large["L0.mlp_gate"], large["L0.mlp_down"],
            large["lm_head"]) == (512, 1376, 512, 2000)


def _decode_s(a_buf_bytes: int, layers=None) -> float:
    target = targets.load_target(U280, [f"buffers.a_buf.size_bytes={a_buf_bytes}"])
    return simulate_model("llama2-7b", Workload(phase="decode", context=512, layers=layers),
                          target)["seconds"]


def _mv_tile_s(tn: int, k: int = 4096) -> float:
    """One GEMV tile on the DSP chains in MV mode: ceil(k/16) x ceil(tn/192) folds of one
    cycle, plus the 16-DSP cascade fill and its overflow-adjust stage."""
    return (math.ceil(k / CHAIN_DSPS) * math.ceil(tn / MV_CHAINS) + CHAIN_DSPS + 1) / CORE_HZ


def test_a_larger_a_buffer_is_slower_only_by_the_end_of_step_drain():
    # the step ends with the LM head's last tile computing after the last load (nothing is
    # left to stream): 2000 columns at 8 MiB, 512 at 2 MiB. That drain is the only allowance
    # (before the fix 8 MiB was 41.8 us slower on two layers; the drains differ by 9.1 us)
    drain_diff_s = _mv_tile_s(2000) - _mv_tile_s(512)
    assert _decode_s(8 * MIB, layers=2) <= _decode_s(2 * MIB, layers=2) + drain_diff_s


@pytest.mark.slow
def test_full_decode_step_is_not_slower_with_a_larger_a_buffer():
    assert _decode_s(8 * MIB) <= _decode_s(2 * MIB)
