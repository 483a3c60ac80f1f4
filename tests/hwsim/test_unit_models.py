"""Closed-form service times, checked against cycle counts worked out by hand."""
import numpy as np
import pytest

import targets
from hwsim.unit_models import dsp_chain_cycles, pim_cycles, systolic_cycles, vector_cycles


def test_single_gemm_tile_on_an_n_by_n_weight_stationary_array():
    # N = 128, one fold (k = n = N), m = 64 rows: N cycles to preload the weights, then the
    # first row enters row 0 / column 0 and the last of the m rows leaves the bottom-right PE
    # after (m - 1) + (N - 1) + (N - 1) + 1 cycles: 128 + 64 + 127 + 127 = 446 = 3N + m - 2.
    assert systolic_cycles(64, 128, 128, 1, 128, 128, 1) == 446
    # 8 x 8 array, m = 1: 8 + 1 + 7 + 7 = 23
    assert systolic_cycles(1, 8, 8, 1, 8, 8, 1) == 23


def test_folds_spread_over_arrays():
    # k = 256, n = 384 on 128 x 128 arrays: 2 x 3 = 6 folds; on 8 arrays one fold-time each
    assert systolic_cycles(10, 384, 256, 1, 128, 128, 1) == 6 * (2 * 128 + 128 + 10 - 2)
    assert systolic_cycles(10, 384, 256, 1, 128, 128, 8) == 1 * (2 * 128 + 128 + 10 - 2)


def test_dsp_chain_dense_and_sparse():
    # 384 chains of 16 DSPs (FlightLLM U280: 3 cores x 128), GEMV m = 1, k = n = 4096:
    # folds = 4096/16 x ceil(4096/384) = 256 x 11 = 2816, one cycle each, + 16 fill + 1 adjust
    assert dsp_chain_cycles(1, 4096, 4096, 1, 384, 16, 2) == 2816 + 17
    # 2:16 sparse: k_eff = 512 -> 32 x 11 = 352 folds
    assert dsp_chain_cycles(1, 4096, 512, 1, 384, 16, 2) == 352 + 17
    # MM mode, 64 rows packed two per DSP: 32 cycles per fold
    assert dsp_chain_cycles(64, 384, 16, 1, 384, 16, 2) == 32 + 17
    # chains of 8 DSPs skip the overflow-adjust stage
    assert dsp_chain_cycles(1, 8, 8, 1, 8, 8, 2) == 1 + 8


def test_vector_passes():
    # 1024 x 128 elements, 3 passes (softmax), 128 lanes at 1 op/cycle: 3 x 1024 + 3
    assert vector_cycles(1024 * 128, 3, 128, 1.0) == 3 * 1024 + 3
    assert vector_cycles(100, 1, 128, 0.5) == 2 + 1  # 100 / 64 -> 2 cycles


def test_pim_gemv_by_hand():
    t = targets.load_target("neupims").memories["hbm"]
    # one query (m = 1), a 1024 x 128 fp16 K cache, one group, 1024 banks:
    # 128 elements per bank = 256 B = 1 row; gwrite (1 + 2) x 32 = 96; row 14 + 14 = 28;
    # dot products 128 / 16 = 8 x tCCD_L 2 = 16 -> 96 + 28 + 16 = 140 cycles
    cycles = pim_cycles(np.array([1]), np.array([1024]), np.array([128]), np.array([1]),
                        t.timing, t.channels * t.banks_per_channel, 16, t.row_bytes, 2)
    assert int(cycles[0]) == 140


@pytest.mark.parametrize("m", [1, 7, 64, 300])
def test_systolic_never_beats_its_peak(m):
    # cycles >= MACs / (rows x cols x arrays): the roofline bound holds per instruction
    for n, k in [(128, 128), (1000, 77), (4096, 4096)]:
        cycles = systolic_cycles(m, n, k, 1, 128, 128, 8)
        assert cycles >= m * n * k / (128 * 128 * 8)


def test_output_stationary_fold_by_hand():
    # SCALE-Sim OS on a 32 x 32 array: m=64 outputs rows, n=32, k=100: folds ceil(64/32) x
    # ceil(32/32) = 2, each 2*32 + 32 + 100 - 2 = 194 cycles -> 388; weight stationary on the
    # same GEMM: ceil(100/32) x 1 = 4 folds of 2*32 + 32 + 64 - 2 = 158 -> 632
    from hwsim.unit_models import systolic_os_cycles
    assert systolic_os_cycles(64, 32, 100, 1, 32, 32, 1) == 388
    assert systolic_cycles(64, 32, 100, 1, 32, 32, 1) == 632
    assert systolic_os_cycles(64, 32, 100, 1, 32, 32, 2) == 194  # one fold per array
