"""Every row of the validation table through the compiler and simulator, held to its tolerance
(slow: the whole table takes tens of minutes on two cores). A row outside its tolerance today is
an xfail(strict=True) with the reason, so it pins the current state: the test fails if such a row
silently moves inside (update the list) or a passing row moves out."""
import dataclasses

import pytest

from hwsim.api.flows.validation import evaluate, simulate_row
from hwsim.validation import load_rows

ROWS = load_rows()
BY_ID = {r.id: r for r in ROWS}

# id -> why it is outside its tolerance (or refused) today; see docs/fidelity.md, "Validation".
# The A100 prompt rows came in with GEMM wave quantization and the V100 llama.cpp prompt rows
# with runtime.gemm_datapath
AWQ_PR320 = ("AutoAWQ PR #320's AWQ GEMM prompt rows (A100-SXM4-80GB, Jan 2024: 62.2 / 109.0 / "
             "201.0 ms for 128 / 256 / 512 tokens) are 1.60 / 1.59 / 1.53x slower than "
             "AutoAWQ #276's on the same card, kernel source, benchmark script and LLaMA-2-7B "
             "shapes (38.8 / 68.5 / 131.3 ms), while #645 (LLaMA-2-13B on an A800-40GB, AutoAWQ "
             "0.2.6) agrees with #276 (1.03). The kernel's one fitted field (runtime.awq_gemm."
             "sm_executed_warp_instructions_per_cycle = 1.9) is set on #276's 512-token row, so "
             "PR #320's rows are 1.53-1.86x fast. Its decode rate equals #276's (93 vs 95 "
             "token/s): a lower SM clock or another build of the kernel would give that, the PR "
             "says neither (docs/fidelity.md, 'Weight-only quantization')")

OUTSIDE: dict[str, str] = {
    "a100-80gb-autoawq-vicuna-7b-w4g128-prefill-128": AWQ_PR320,
    "a100-80gb-autoawq-vicuna-7b-w4g128-prefill-256": AWQ_PR320,
    "a100-80gb-autoawq-vicuna-7b-w4g128-prefill-512": AWQ_PR320,
}


# A row whose prompts add up to this many tokens (batch x seq) simulates a prefill of tens of
# thousands of tokens: 1-2 minutes each (the seven TensorRT-LLM throughput rows, ~9 minutes in
# all), so the normal run leaves them to the campaign (HWSIM_CAMPAIGNS=1); `hwsim validate` runs
# every row, and docs/fidelity.md's summary is from a full run.
CAMPAIGN_PROMPT_TOKENS = 4096


def _prompt_tokens(row) -> int:
    return int(row.workload.get("batch", 1)) * int(row.workload.get("seq", 0))


def _params():
    for row in ROWS:
        marks = [pytest.mark.slow]
        if _prompt_tokens(row) >= CAMPAIGN_PROMPT_TOKENS:
            marks.append(pytest.mark.campaign)
        if row.id in OUTSIDE:
            marks.append(pytest.mark.xfail(strict=True, reason=OUTSIDE[row.id]))
        yield pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", _params())
def test_row_within_its_tolerance(row):
    record = evaluate(row, simulate_row)
    assert record["status"] == "within", (record["status"], record["ratio"], record["reason"])


@pytest.mark.slow
@pytest.mark.parametrize("row_id", ["h100-llama2-7b-graph-decode-b1-c128",
                                    "h100-llama2-7b-eager-decode-b1-c128"])
def test_without_the_stack_costs_the_row_leaves_its_tolerance(row_id):
    # the per-kernel costs are what bring these rows in: with runtime.stack=none (no launch,
    # no gap, one bandwidth for every kernel) the simulator is 1.7x (graph) and 6.6x (eager)
    # optimistic again
    row = BY_ID[row_id]
    assert evaluate(row, simulate_row)["status"] == "within"
    bare = dataclasses.replace(row, overrides=("runtime.stack=none",))
    record = evaluate(bare, simulate_row)
    assert record["status"] == "outside" and record["ratio"] > 1.3


@pytest.mark.slow
def test_with_tensor_cores_the_llamacpp_f16_prompt_row_leaves_its_tolerance():
    # llama.cpp build 1077 runs f16 prompt GEMMs as fp32 SGEMM (runtime.gemm_datapath=cuda_core);
    # on the tensor cores hwsim is 3.0x optimistic again (1,959 vs 648 token/s)
    row = BY_ID["v100-llamacpp1077-openllama-7b-fp16-prefill-b1"]
    assert "runtime.gemm_datapath=cuda_core" in row.overrides
    tensor = tuple(o for o in row.overrides if not o.startswith("runtime.gemm_datapath"))
    record = evaluate(dataclasses.replace(row, overrides=tensor), simulate_row)
    assert record["status"] == "outside" and record["ratio"] > 2.5


@pytest.mark.slow
@pytest.mark.parametrize("row_id", ["a100-80gb-trtllm080-llama2-7b-fp16-ttft-128",
                                    "a100-80gb-trtllm05-llama2-7b-fp16-ttft-128",
                                    "a100-80gb-flightllm-hf-llama2-7b-fp16-prefill-512"])
def test_without_gemm_wave_quantization_the_prompt_rows_leave_their_tolerance(row_id):
    # a 128- or 512-token prompt's projections are 32-688 CTA tiles of 128 x 128 on the A100's
    # 108 SMs: one to seven waves, the last one part-empty (hwsim/timing/gpu_waves.py). With
    # each GEMM at the whole GPU's rate instead, the prompt comes out 0.63x (TTFT at 128
    # tokens) and 0.57x (HF, 512 tokens) of the measured time, too fast, again
    row = BY_ID[row_id]
    assert evaluate(row, simulate_row)["status"] == "within"
    flat = dataclasses.replace(row, overrides=row.overrides + (
        "units.sm.gemm_wave_quantization=false",))
    record = evaluate(flat, simulate_row)
    assert record["status"] == "outside" and record["ratio"] < 0.7


@pytest.mark.slow
@pytest.mark.parametrize("row_id", ["a100-80gb-autoawq-llama2-7b-chat-w4g128-prefill-1024",
                                    "a100-autoawq-llama2-13b-chat-w4g128-prefill-512"])
def test_without_the_awq_kernels_conversion_its_prompt_rows_leave_their_tolerance(row_id):
    # The "removing the dequantization cost breaks the tolerance of named rows": at the
    # fitted 1.9 warp instructions per SM cycle the AWQ GEMM kernel is issue-bound, and 145 of
    # its 310 instructions per warp per k step convert weights; without them the prompt is 1.7x
    # fast (1.03 -> 1.70). With Marlin's count instead of the kernel's structure it is faster
    # still (the kernel option is what brings these rows in)
    row = BY_ID[row_id]
    assert "runtime.wo_gemm_kernel=awq_gemm" in row.overrides
    awq = evaluate(row, simulate_row)
    assert awq["status"] == "within"
    bare = evaluate(dataclasses.replace(row, overrides=row.overrides + (
        "runtime.awq_gemm.dequant_instructions_per_weight=1e-9",)), simulate_row)
    assert bare["status"] == "outside" and bare["ratio"] > 1.5
    marlin = evaluate(dataclasses.replace(row, overrides=tuple(
        o for o in row.overrides if not o.startswith("runtime.wo_gemm_kernel"))), simulate_row)
    assert marlin["status"] == "outside" and marlin["ratio"] > bare["ratio"]


NO_DEQUANT = ("units.sm.dequant_instructions_per_weight.int4=1e-9",
              "units.sm.dequant_instructions_per_weight.int8=1e-9")


@pytest.mark.slow
@pytest.mark.parametrize("row_id, weights_per_int_s", [
    ("a100-80gb-gptfast-llama2-7b-int4g32-b1", 9.75e12 / 1.625),
    ("a100-80gb-gptfast-llama2-7b-int8wo-b1", 9.75e12 / 1.5)])
def test_without_the_dequantization_cost_the_weight_only_rows_get_faster(row_id,
                                                                        weights_per_int_s):
    # Not yet the "breaks the tolerance": every weight-only row of the table is a
    # batch-1 decode, whose conversion (6,607,077,376 matrix weights at Marlin's 1.625 / 1.5
    # instructions per weight on 9.75e12 CUDA-core instructions/s: 1.10 / 1.02 ms per token)
    # runs under the weight stream (3.7 / 6.7 GB at 1.69 TB/s: 2.2 / 4.0 ms), so removing it
    # moves int4 G=32 from 1.188 to 1.212 and int8 from 1.113 to 1.125, both within. What is
    # held here: the cost is charged on these rows (the simulator is faster, more optimistic,
    # without it), by less than the conversion's whole time (it overlaps the stream)
    row = BY_ID[row_id]
    with_cost = evaluate(row, simulate_row)
    without = evaluate(dataclasses.replace(row, overrides=row.overrides + NO_DEQUANT),
                       simulate_row)
    assert without["ratio"] > with_cost["ratio"]
    per_token_s = 6_607_077_376 / weights_per_int_s
    saved_s = 1 / with_cost["simulated_si"] - 1 / without["simulated_si"]
    assert 0 < saved_s < per_token_s


@pytest.mark.slow
@pytest.mark.parametrize("row_id, prompt_tiles, steps", [
    ("h100-vllm-rtn-marlin-llama3.1-8b-int4g128-b4-256-32", 4 * 256 // 128, 32),
    ("h100-vllm-rtn-marlin-llama3.1-8b-int4g128-b8-256-32", 8 * 256 // 128, 32)])
def test_without_the_dequantization_cost_the_batched_marlin_rows_get_faster(row_id,
                                                                            prompt_tiles,
                                                                            steps):
    # Still not the "breaks the tolerance": vLLM's Marlin int4 at batch 4 / 8 of 256-token
    # prompts on the H100 is within (0.89x / 0.93x of the measured latency) and stays within
    # without its conversion (0.885x / 0.916x). By hand: a 128-row prompt tile converts each
    # weight once (1.625 instructions at 66.9e12 / 2 per s: 0.049 ps) against 2 x 128 tensor FLOPs
    # (at 0.88 x 989.4e12: 0.29 ps), so the conversion is at most 15 % of a compute-bound GEMM,
    # less than the 30 % tolerance. Held here: the cost is charged (the latency is longer with
    # it) and by no more than every pass's whole conversion: 7,504,658,432 matrix weights
    # (32 x 218,103,808 + the 4096 x 128256 head) per pass, one pass per 128-row prompt tile and
    # one per decode step
    row = BY_ID[row_id]
    with_cost = evaluate(row, simulate_row)
    without = evaluate(dataclasses.replace(row, overrides=row.overrides + NO_DEQUANT),
                       simulate_row)
    assert with_cost["status"] == "within" and without["status"] == "within"
    pass_s = 7_504_658_432 * 1.625 / (66.9e12 / 2)
    saved_s = with_cost["simulated_si"] - without["simulated_si"]
    assert 0 < saved_s < (prompt_tiles + steps) * pass_s
