"""llm.npu's Table 3 GEMM rows (Redmi K70 Pro, one QNN graph per INT8 GEMM) run as a graph
execute on the mobile NPU target: the per-graph cost plus the weights at the achieved stream
rate, the same cost one GEMM of the prefill schedule pays. Expected values by hand from the
preset's two runtime fields, and those fields re-derived from the six measurements by numpy."""
import numpy as np
import pytest

from hwsim.api.flows.mobile_kernel import runs_as_npu_graph
from hwsim.api.flows.validation import evaluate, simulate_row
from hwsim.validation import load_rows
from targets import load_target

# llm.npu (arXiv 2407.05858) Table 3, NPU INT8 column: (m, k, n) -> ms
TABLE3_MS = {(64, 2048, 2048): 0.9, (64, 2048, 8192): 1.5, (64, 2048, 11008): 2.0,
             (32, 4096, 4096): 1.7, (32, 4096, 8192): 2.9, (32, 4096, 11008): 4.1}
GEMM_ROWS = [r for r in load_rows() if r.id.startswith("sd8gen3-llmnpu-npu-gemm-int8-")]


def test_runtime_fields_are_the_least_squares_fit_of_table3():
    weight_bytes = np.array([k * n for (_, k, n) in TABLE3_MS], float)
    latency_s = np.array(list(TABLE3_MS.values())) * 1e-3
    slope, intercept = np.polyfit(weight_bytes, latency_s, 1)
    rt = load_target("mllm-npu-sd8gen3").runtime
    assert rt.npu_graph_execute_overhead_s == pytest.approx(intercept, rel=0.01)
    assert rt.npu_weight_stream_bytes_per_s == pytest.approx(1.0 / slope, rel=0.01)


def test_six_rows_cover_table3():
    shapes = {tuple(int(x) for x in r.kernel["shape"].split(",")) for r in GEMM_ROWS}
    assert shapes == set(TABLE3_MS)


@pytest.mark.parametrize("row", GEMM_ROWS, ids=lambda r: r.id)
def test_gemm_row_is_one_graph_execute(row):
    m, k, n = (int(x) for x in row.kernel["shape"].split(","))
    # by hand: 0.355 ms per graph execute + k x n INT8 weight bytes at 12.66 GB/s (the stream
    # is the slower side for all six: the HMX model needs 0.08-0.65 ms)
    expected_s = 0.355e-3 + k * n / 12.66e9
    result = simulate_row(row)
    assert result["mobile_graph"]["kernel_s"] < k * n / 12.66e9
    assert result["seconds"] == pytest.approx(expected_s, rel=1e-9)
    record = evaluate(row, simulate_row)
    assert record["status"] == "within"
    assert record["ratio"] == pytest.approx(expected_s / (TABLE3_MS[(m, k, n)] * 1e-3))


def test_only_int8_gemms_on_a_mobile_npu_run_as_a_graph():
    mobile, fpga = load_target("mllm-npu-sd8gen3"), load_target("flightllm-u280")
    assert runs_as_npu_graph("gemm", "int8", mobile)
    assert not runs_as_npu_graph("gemm", "fp16", mobile)
    assert not runs_as_npu_graph("gemv", "int8", mobile)
    assert not runs_as_npu_graph("gemm", "int8", fpga)
