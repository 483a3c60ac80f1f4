"""Tile and wave quantization of GPU GEMM kernels (hwsim/timing/gpu_waves.py).

Hand figures for the a100-80gb preset: 108 SMs, 312e12 FLOP/s fp16 = 156e12 MAC/s, at
compute_efficiency_fraction 0.92 one SM multiplies 156e12 x 0.92 / 108 = 1.32889e12 MAC/s;
CTA tiles of 128 x 128, rows rounded up to 16 below 128.
"""
import math

import pytest

import targets
from compiler.kernels import kernel_graph, parse_shape
from compiler.pipeline import compile_graph
from hwsim.simulate import simulate_program
from hwsim.timing.gpu_waves import tile_count_and_macs
from isa import Queue

SM_MACS_PER_S = 156e12 * 0.92 / 108
GPU_MACS_PER_S = 156e12 * 0.92
OFF = "units.sm.gemm_wave_quantization=false"


def _unit(**sets):
    return targets.load_target("a100-80gb", [f"units.sm.{k}={v}" for k, v in sets.items()]) \
        .units["sm"]


@pytest.mark.parametrize("m, n, k, tiles, rows", [
    (128, 4096, 4096, 32, 128),      # one row of 32 tiles
    (512, 11008, 4096, 4 * 86, 128),  # 11008 / 128 = 86 columns
    (20, 4096, 4096, 32, 32),         # 20 rows run 32-row tiles (two MMA granules)
    (1, 4096, 11008, 32, 16),
    (129, 128, 64, 2, 128),           # one row over: a second, nearly empty tile row
])
def test_tiles_and_tile_size(m, n, k, tiles, rows):
    assert tile_count_and_macs(m, n, k, _unit()) == (tiles, rows * 128 * k)


def _mm_seconds(shape, sets=(), queue=Queue.MM, target="a100-80gb"):
    target = targets.load_target(target, ["runtime.stack=eager",
                                          "runtime.eager.kernel_host_issue_s=0", *sets])
    program = compile_graph(kernel_graph("gemm", parse_shape("gemm", shape), "fp16"),
                            target).program
    r = simulate_program(program, target, 1)
    a, start, end = r["_detail"]["arrays"], r["_detail"]["start"], r["_detail"]["end"]
    rows = slice(a.queue_start[int(queue)], a.queue_start[int(queue) + 1])
    return float((end[rows] - start[rows]).sum()), r["seconds"]


def test_a_prompt_of_128_tokens_keeps_most_sms_idle():
    # 128 x 4096 x 4096: 32 tiles, one wave on 32 of the 108 SMs; each tile 128 x 128 x 4096
    # MACs on one SM, against the plain model's whole-GPU rate
    wave_s = 128 * 128 * 4096 / SM_MACS_PER_S
    plain_s = 128 * 4096 * 4096 / GPU_MACS_PER_S
    assert wave_s == pytest.approx(50.50e-6, rel=1e-3)
    on_mm, on = _mm_seconds("128,4096,4096")
    off_mm, off = _mm_seconds("128,4096,4096", [OFF])
    assert on_mm == pytest.approx(wave_s, rel=1e-6)
    assert off_mm == pytest.approx(plain_s, rel=1e-6)
    assert on >= wave_s and off < wave_s


def test_full_waves_cost_nothing_extra():
    # 1024 x 13824 x 4096: 8 x 108 = 864 tiles = exactly 8 waves: the wave time equals the plain
    # time, so the switch changes nothing
    assert math.ceil(8 * 108 / 108) * 128 * 128 * 4096 / SM_MACS_PER_S == pytest.approx(
        1024 * 13824 * 4096 / GPU_MACS_PER_S)
    on_mm, _ = _mm_seconds("1024,4096,13824")
    off_mm, _ = _mm_seconds("1024,4096,13824", [OFF])
    assert on_mm == pytest.approx(off_mm, rel=1e-9)


def test_h100_runs_4096_cubed_as_eight_waves_over_its_132_sms():
    # h100: 989.4e12 FLOP/s fp16 = 494.7e12 MAC/s x 0.88 / 132 SMs = 3.29800e12 MAC/s per SM;
    # 4096^3 = 32 x 32 = 1,024 tiles of 128 x 128 = 7.76 waves of 132, run as 8 full waves of
    # 128 x 128 x 4096 MACs each: 8 x 67,108,864 / 3.298e12 = 162.79 us (plain: 157.86 us)
    sm = targets.load_target("h100").units["sm"]
    assert (sm.count, sm.gemm_wave_quantization) == (132, True)
    assert (sm.gemm_cta_tile_rows, sm.gemm_cta_tile_cols) == (128, 128)
    assert tile_count_and_macs(4096, 4096, 4096, sm) == (1024, 128 * 128 * 4096)
    wave_s = 8 * 128 * 128 * 4096 / (494.7e12 * 0.88 / 132)
    assert wave_s == pytest.approx(162.79e-6, rel=1e-4)
    on_mm, _ = _mm_seconds("4096,4096,4096", target="h100")
    off_mm, _ = _mm_seconds("4096,4096,4096", [OFF], target="h100")
    # the compiler's 800-wide tiles leave 96-wide remainders, a few of them held up by their
    # buffer ports a little longer than their share of the waves (0.5 %)
    assert wave_s <= on_mm < wave_s * 1.01
    assert 4096 ** 3 / (494.7e12 * 0.88) <= off_mm < on_mm


def test_a_gemv_hides_its_tiles_under_the_stream():
    # one token: a GEMV, one 16-row tile row of 32 tiles (one wave), 16 x 128 x 4096 MACs each;
    # its 33.5 MB of weights take longer than that, so the kernel's time barely changes
    tile_s = 16 * 128 * 4096 / SM_MACS_PER_S
    on_mv, on = _mm_seconds("1,4096,4096", queue=Queue.MV)
    off_mv, off = _mm_seconds("1,4096,4096", [OFF], queue=Queue.MV)
    assert on_mv == pytest.approx(tile_s, rel=1e-6)
    # off: the weights' pass through the L2 port (33.5 MB at 5,120 B x 1.41 GHz = 4.65 us)
    # bounds the GEMV, above its MACs at the whole GPU's rate and below the tile's time
    assert 4096 * 4096 / GPU_MACS_PER_S < off_mv < tile_s
    assert off_mv >= 4096 * 4096 * 2 / (5120 * 1.41e9)
    # (but for the last weight tile's compute, which follows its load: 0.4 %)
    assert on == pytest.approx(off, rel=0.01) and on > 4096 * 4096 * 2 / 2039e9
