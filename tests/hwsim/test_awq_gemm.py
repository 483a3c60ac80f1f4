"""runtime.wo_gemm_kernel = awq_gemm (targets/gpu_runtime.py, hwsim/timing/awq_gemm.py): AutoAWQ's
January-2024 AWQ GEMM kernel timed from its structure on the A100-80GB preset.

Hand figures (a100-80gb: 108 SMs at 1.41 GHz, fp16 tensor 312 TFLOPS x 0.92, HBM 2,039 GB/s x
0.83 achieved; runtime.awq_gemm: 16 x 128 CTA tiles, k steps of 32, 2 warps, split-K 8, 165
loop + 2.265625 x 4096 / 64 = 145 conversion instructions per warp per k step, 282 per warp
outside the loop, 72 registers, 9,984 + 1,024 B of shared memory per CTA, 4 warp instructions
issued per SM cycle of which the kernel executes 1.9 (the one field fitted, on the calibration
row a100-80gb-autoawq-llama2-7b-chat-w4g128-prefill-512), 11,904 B per warp per k step through
the 128 B/cycle L1 / shared-memory data path, 200-cycle L2 hits)."""
import pytest

import targets
from hwsim.timing.awq_gemm import resident_ctas
from tests.cli.test_bad_input import assert_one_line_error
from tests.hwsim.one_matmul import one_matmul_seconds

AWQ = "runtime.wo_gemm_kernel=awq_gemm"
NO_CONVERSION = "runtime.awq_gemm.dequant_instructions_per_weight=1e-9"
PEAK_ISSUE = "runtime.awq_gemm.sm_executed_warp_instructions_per_cycle=4"
SM_CYCLES_PER_S = 108 * 1.41e9
# 512 x 4096 x 4096: 32 M tiles x 32 N tiles x 128 k steps = 131,072 CTA steps; 8,192 CTAs
WARP_INSTRUCTIONS = 131_072 * 2 * 310 + 8_192 * 2 * 282  # 85,884,928
BARE_WARP_INSTRUCTIONS = 131_072 * 2 * 165 + 8_192 * 2 * 282  # 47,874,048
REDUCE_S = 9 * 512 * 4096 * 2 / (2039e9 * 0.83)  # .sum(0): 9 x 4,194,304 B, 22.3 us


def _gemm_seconds(sets=(), m=512, n=4096, k=4096, wgt="int4") -> float:
    return one_matmul_seconds("a100-80gb", m, n, k, wgt, sets)


def test_an_sm_holds_14_ctas_of_the_kernel_by_its_registers():
    # 72 registers x 32 lanes = 2,304 per warp (a multiple of 256), 4,608 per 2-warp CTA:
    # 65,536 // 4,608 = 14; shared memory 167,936 // (9,984 + 1,024) = 15; warps 64 // 2 = 32
    t = targets.load_target("a100-80gb", [AWQ])
    assert resident_ctas(t.runtime.awq()) == 14
    fewer = targets.load_target("a100-80gb", [AWQ, "runtime.awq_gemm.registers_per_thread=128"])
    assert resident_ctas(fewer.runtime.awq()) == 65536 // (128 * 32 * 2)  # 8


def test_a_512_row_projection_is_bound_by_the_kernels_executed_instructions_plus_its_reduction():
    # 512 x 4096 x 4096, int4 weights. Issue at the fitted 1.9 warp instructions per SM cycle:
    # 85,884,928 / (1.9 x 108 x 1.41e9) = 296.8 us. It beats the L1 / shared-memory path
    # (131,072 x 2 warps x 11,904 B at 128 B x 108 SMs x 1.41e9 per s = 160.1 us), the latency
    # bound (131,072 x (200 + 310) cycles over 14 CTAs x 108 SMs: 31.3 us), the tensor time
    # (8.59e9 MACs at 156e12 x 0.92: 59.9 us) and the partial sums' writes (8 x 512 x 4096 x 2
    # B at 1.692 TB/s: 19.8 us). Then .sum(0): 22.3 us
    issue_s = WARP_INSTRUCTIONS / (1.9 * SM_CYCLES_PER_S)
    assert _gemm_seconds([AWQ]) == pytest.approx(issue_s + REDUCE_S, rel=1e-9)
    assert issue_s + REDUCE_S == pytest.approx(319.1e-6, rel=1e-3)


def test_at_the_schedulers_peak_issue_the_shared_memory_path_binds():
    # with every scheduler issuing every cycle (4 per SM: 141.0 us) the data path's 160.1 us
    # binds instead: the bound model without the fitted rate, 1.85x faster than the kernel
    l1_s = 131_072 * 2 * 11_904 / (128 * SM_CYCLES_PER_S)
    assert WARP_INSTRUCTIONS / (4 * SM_CYCLES_PER_S) < l1_s
    assert _gemm_seconds([AWQ, PEAK_ISSUE]) == pytest.approx(l1_s + REDUCE_S, rel=1e-9)


def test_each_16_row_m_tile_converts_the_weights_again():
    # the loop's cost is per CTA step, so a 16-row prompt costs 1/32 of a 512-row one in the
    # kernel (the split-K reduction scales with the rows too): exactly linear in M tiles
    assert _gemm_seconds([AWQ], m=16) * 32 == pytest.approx(_gemm_seconds([AWQ], m=512),
                                                             rel=1e-9)


def test_the_conversion_costs_its_instructions_at_the_executed_rate():
    # issue binds, so the conversion's 131,072 x 2 x 145 warp instructions are charged: without
    # them 47,874,048 / (1.9 x 108 x 1.41e9) = 165.5 us, still over the data path's 160.1 us
    bare_s = BARE_WARP_INSTRUCTIONS / (1.9 * SM_CYCLES_PER_S)
    assert bare_s > 131_072 * 2 * 11_904 / (128 * SM_CYCLES_PER_S)
    assert _gemm_seconds([AWQ, NO_CONVERSION]) == pytest.approx(bare_s + REDUCE_S, rel=1e-9)
    saved_s = _gemm_seconds([AWQ]) - _gemm_seconds([AWQ, NO_CONVERSION])
    assert saved_s == pytest.approx(131_072 * 2 * 145 / (1.9 * SM_CYCLES_PER_S), rel=1e-9)


def test_at_peak_issue_the_conversion_hides_under_the_shared_memory_path():
    # at 4 per cycle issue (141.0 us with the conversion, 78.6 us without) stays under the data
    # path's 160.1 us, so removing the conversion changes nothing there
    assert _gemm_seconds([AWQ, PEAK_ISSUE, NO_CONVERSION]) == _gemm_seconds([AWQ, PEAK_ISSUE])


def test_marlin_default_and_fp16_rows_are_untouched_by_the_option():
    marlin = _gemm_seconds()
    # Marlin: 8.59e9 MACs at 156e12 x 0.92 (a100-80gb) + 16.8 M weights x 1.625 at 9.75e12 per s
    assert marlin == pytest.approx(512 * 4096 * 4096 / (156e12 * 0.92) +
                                   4096 * 4096 * 1.625 / 9.75e12, rel=1e-9)
    assert _gemm_seconds([AWQ], wgt="fp16") == _gemm_seconds(wgt="fp16")
    assert _gemm_seconds([AWQ]) > 2 * marlin


def test_a_target_without_the_kernel_structure_refuses_in_one_line(hwsim):
    out = hwsim("simulate", "tiny-llama", "-t", "h100", "--quant", "w4a16", "--set", AWQ)
    assert_one_line_error(out, "runtime.wo_gemm_kernel = awq_gemm needs runtime.awq_gemm")


def test_an_executed_rate_above_the_issue_limit_is_refused_in_one_line(hwsim):
    out = hwsim("simulate", "tiny-llama", "-t", "a100-80gb", "--quant", "w4a16", "--set", AWQ,
                "--set", "runtime.awq_gemm.sm_executed_warp_instructions_per_cycle=4.5")
    assert_one_line_error(out, "sm_executed_warp_instructions_per_cycle = 4.5 is above "
                               "warp_issue_per_cycle = 4")
