"""A kernel on a mobile NPU target the way llm.npu's micro-benchmark ran it (paper §2.2,
Table 3): one QNN graph holding one INT8 GEMM, executed on the Hexagon NPU.

The measured latency is a graph execute, not the matrix unit alone: it pays the runtime's
per-graph cost (`runtime.npu_graph_execute_overhead_s`) and streams the weights from DRAM at
the achieved rate (`runtime.npu_weight_stream_bytes_per_s`) when that is slower than the
simulated kernel. This is the same cost one GEMM of mllm-NPU's prefill schedule pays
(mobile_costs.SocCosts: one graph call plus npu_gemm), so the six Table 3 rows check the
schedule's NPU model, not the HMX model in isolation. Other kernels (and other dtypes) keep the
plain kernel simulation: QNN graphs of them were not measured.
"""
from __future__ import annotations

from hwsim.api.flows.mobile_costs import SocCosts


def runs_as_npu_graph(kind: str, dtype: str, target) -> bool:
    return target.family == "mobile_npu" and kind == "gemm" and dtype == "int8"


def simulate_npu_graph_gemm(shape: tuple, target) -> dict:
    """The kernel simulation's record with `seconds` (and the fields derived from it) for one
    QNN graph execute of the (m, k, n) INT8 GEMM; `mobile_graph` says how it splits."""
    m, k, n = (int(x) for x in shape)
    costs = SocCosts(target)
    kernel = costs.npu_gemm_record(m, k, n)
    call, gemm = costs.npu_graph_call(), costs.npu_gemm(m, k, n)
    seconds = call.seconds + gemm.seconds
    clock = float(kernel["cycles"]) / float(kernel["seconds"]) if kernel["seconds"] else 0.0
    out = {key: value for key, value in kernel.items() if not key.startswith("_")}
    out.update({
        "cycles": int(round(seconds * clock)),
        "seconds": seconds,
        "tokens_per_s": out["tokens"] / seconds,
        "mobile_graph": {"graph_execute_overhead_s": call.seconds,
                         "kernel_s": float(kernel["seconds"]),
                         "weight_stream_s": costs.npu_weight_stream_s(k, n)},
    })
    return out
