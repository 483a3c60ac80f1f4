"""The A100 40 GB and V100 rows hold the published numbers: each is checked against a second
figure of the same source, typed here by hand (the CSV's Throughput column, llama.cpp's
per-token and tokens-per-second columns), so a mistyped value fails."""
import pytest

from hwsim.validation import load_rows

BY_ID = {r.id: r for r in load_rows()}

# argonne-lcf/LLM-Inference-Bench Plots/All_results.csv: (batch, in = out length) -> Throughput,
# which the benchmark computes as batch x (in + out) / Latency
A100_40GB_THROUGHPUT = {
    ("llama2-7b", 1, 128): 154.86705590449304, ("llama2-7b", 1, 512): 147.54610817320565,
    ("llama2-7b", 16, 128): 2035.234414050228, ("llama2-7b", 64, 128): 4919.509878546116,
    ("llama3-8b", 1, 128): 140.17661188365588, ("llama3-8b", 1, 512): 138.63241111574106,
    ("llama3-8b", 16, 128): 1869.0408077022623,
}


@pytest.mark.parametrize("key", sorted(A100_40GB_THROUGHPUT))
def test_a100_40gb_latency_reproduces_the_csv_throughput(key):
    model, batch, length = key
    row = BY_ID[f"a100-40gb-vllm-{model}-fp16-b{batch}-{length}-{length}"]
    assert row.target == "a100" and row.unit == "s"
    assert batch * 2 * length / row.value == pytest.approx(A100_40GB_THROUGHPUT[key], rel=1e-12)


# ggml-ci V100 run of llama.cpp build 1077: (total ms, count, ms per token) per timing line
V100_TIMINGS = {
    "fp16-decode": (4871.98, 255, 19.11), "q8-0-decode": (3268.86, 255, 12.82),
    "q4-0-decode": (2241.21, 255, 8.79), "fp16-prefill": (12633.25, 8192, 1.54),
    "q8-0-prefill": (6676.94, 8192, 0.82), "q4-0-prefill": (7124.94, 8192, 0.87),
}


@pytest.mark.parametrize("name", sorted(V100_TIMINGS))
def test_v100_rate_agrees_with_the_printed_total_time(name):
    total_ms, count, ms_per_token = V100_TIMINGS[name]
    row = BY_ID[f"v100-llamacpp1077-openllama-7b-{name}-b1"]
    assert row.target == "v100-pcie-16gb" and row.unit == "token/s"
    # llama.cpp prints the rate to two decimals: count / total time, and 1000 / ms per token
    assert row.value == pytest.approx(count / (total_ms / 1e3), abs=0.005)
    assert 1e3 / row.value == pytest.approx(ms_per_token, abs=0.005)
