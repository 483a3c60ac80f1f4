"""`hwsim kernel gemm 256,4096,4096` on neupims with one 128x128 array (issue 15's kernel row):
every MATMUL takes the weight-stationary fold formula's cycles, worked out here by hand, so a
speed-up of the kernel flow cannot change what it charges."""
import math

import numpy as np
import pytest

import targets
from hwsim.api.flows.kernel import kernel_result
from isa import Queue

M, K, N = 256, 4096, 4096
ROWS = COLS = 128  # neupims' array; weight_preload_overlap: true (double-buffered weights)


def ws_overlapped_cycles(m: int, n: int, k: int) -> int:
    """One array, weight-stationary, preloads hidden behind the previous fold's stream
    (SCALE-Sim's WS fold with ONNXim's preload pipelining): the first fold pays its preload
    (ROWS cycles), its stream and fill / drain (ROWS + COLS + m - 2); each further fold one
    stream of max(m, ROWS) cycles (a preload still takes ROWS)."""
    folds = math.ceil(k / ROWS) * math.ceil(n / COLS)
    return 2 * ROWS + COLS + m - 2 + (folds - 1) * max(m, ROWS)


@pytest.fixture(scope="module")
def run():
    target = targets.load_target("neupims", ["units.systolic.count=1"])
    return kernel_result("gemm", f"{M},{K},{N}", target, "fp16"), target


def test_each_matmul_takes_the_fold_formula(run):
    r, target = run
    a, start, end = r["_detail"]["arrays"], r["_detail"]["start"], r["_detail"]["end"]
    mm = np.flatnonzero(a.queue == int(Queue.MM))
    clock_hz = target.clocks["npu"].freq_hz
    shapes = [(int(a.fields["m"][i]), int(a.fields["n"][i]), int(a.fields["k"][i])) for i in mm]
    # the products cover the whole GEMM: every row and the full reduction, N split in columns
    assert all(m == M and k == K for m, _, k in shapes)
    assert sum(n for _, n, _ in shapes) == N
    charged = [round((end[i] - start[i]) * clock_hz) for i in mm]
    assert charged == [ws_overlapped_cycles(m, n, k) for m, n, k in shapes]


def test_the_kernel_is_its_matmuls_plus_the_memory_it_cannot_hide(run):
    r, target = run
    a = r["_detail"]["arrays"]
    mm = np.flatnonzero(a.queue == int(Queue.MM))
    mm_cycles = sum(ws_overlapped_cycles(int(a.fields["m"][i]), int(a.fields["n"][i]), K)
                    for i in mm)
    # by hand for the split the compiler makes (2,032 + 2,032 + 32 columns): 32 x 16 = 512
    # folds -> 638 + 511 x 256 = 131,454 cycles twice, 32 folds -> 638 + 31 x 256 = 8,574
    if sorted(int(a.fields["n"][i]) for i in mm) == [32, 2032, 2032]:
        assert mm_cycles == 2 * 131_454 + 8_574
    # one array runs the products one after another; what else shows is memory the array
    # cannot overlap: less than all the kernel's off-chip traffic at the peak bandwidth, twice
    memory = target.memories[target.main_memory]
    traffic_s = (r["bytes"]["dram_read"] + r["bytes"]["dram_write"]) \
        / memory.bandwidth_bytes_per_s
    assert mm_cycles < r["cycles"] < mm_cycles + 2 * traffic_s * 1e9
