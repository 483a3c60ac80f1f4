"""Time and energy of one mllm-NPU subgraph on each processor of a phone SoC.

NPU linears (INT8, static shape) come from the normal compile + simulate path of a GEMM kernel
on the target's matrix unit, then pay the target's measured runtime costs (`runtime`): one graph
execute per subgraph, and weights streamed at the achieved DRAM -> NPU bandwidth when that is
slower than the simulated kernel. Per-group activation quantization (what the NPU must run to
stay accurate when outliers are not extracted) adds one int32 partial output per K group,
rescaled and accumulated in fp16 on the vector unit through the shared on-chip buffer.
CPU and GPU work is MACs over the processor's achieved rate (CPU: the clusters' peak x the
measured GEMM efficiency; GPU: its measured fp16 rate), never faster than its weights stream
from DRAM at peak. Energies: action counts x the target's tables; the GPU has no table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from compiler.kernels import kernel_graph
from compiler.passes.quantize import GROUP_SIZE
from compiler.pipeline import compile_graph
from hwsim.simulate import simulate_program


@dataclass(frozen=True)
class Cost:
    seconds: float
    energy_j: dict          # breakdown without static power (added once for the whole run)
    bound_s: float          # a lower bound on `seconds` (roofline of the work)
    dram_read_bytes: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        keys = sorted(set(self.energy_j) | set(other.energy_j))
        return Cost(self.seconds + other.seconds,
                    {k: self.energy_j.get(k, 0.0) + other.energy_j.get(k, 0.0) for k in keys},
                    self.bound_s + other.bound_s, self.dram_read_bytes + other.dram_read_bytes)


ZERO = Cost(0.0, {}, 0.0)


class SocCosts:
    """Subgraph costs on one target; GEMM kernel simulations are run once per shape."""

    def __init__(self, target) -> None:
        self.t = target
        self.rt = target.runtime
        self._gemm: dict[tuple[int, int, int], Cost] = {}
        self._record: dict[tuple[int, int, int], dict] = {}
        self.cpus = [n for n, u in target.units.items() if u.kind == "cpu"]
        self.hvx = next(n for n, u in target.units.items() if u.kind == "vector")
        self.sram = next(iter(target.buffers))
        self.dram = target.memories[target.main_memory]

    # ---- NPU -------------------------------------------------------------------------------
    def npu_gemm(self, m: int, k: int, n: int) -> Cost:
        """One INT8 GEMM kernel, compiled and simulated, at the achieved weight stream."""
        key = (m, k, n)
        if key not in self._gemm:
            compiled = compile_graph(kernel_graph("gemm", key, "int8"), self.t)
            r = simulate_program(compiled.program, self.t, m)
            self._record[key] = r
            energy = {c: float(j) for c, j in r["energy_breakdown_j"].items() if c != "static"}
            self._gemm[key] = Cost(max(float(r["seconds"]), self.npu_weight_stream_s(k, n)), energy,
                                   float(r["roofline_seconds"]),
                                   float(r["bytes"]["dram_read"]))
        return self._gemm[key]

    def npu_weight_stream_s(self, k: int, n: int) -> float:
        """The k x n INT8 weights streamed from DRAM at the achieved NPU rate."""
        return k * n / self.rt.npu_weight_stream_bytes_per_s

    def npu_gemm_record(self, m: int, k: int, n: int) -> dict:
        """The simulator's record of the INT8 GEMM kernel alone (the matrix-unit model)."""
        self.npu_gemm(m, k, n)
        return self._record[(m, k, n)]

    def npu_per_group_extra(self, m: int, k: int, n: int) -> Cost:
        """Per-group activation scales: ceil(k / GROUP_SIZE) int32 partial outputs of m x n,
        each written to and read back from the on-chip buffer (4 B each way) and rescaled and
        accumulated with one fp16 op per element on the vector unit."""
        partials = m * n * math.ceil(k / GROUP_SIZE)
        unit = self.t.units[self.hvx]
        rate = unit.count * unit.lanes * unit.ops_per_lane_per_cycle.get("fp16", 1.0) * \
            self.t.clocks[unit.clock].freq_hz
        buf = self.t.buffers[self.sram]
        port = buf.width_bytes * buf.ports * self.t.clocks[buf.clock].freq_hz
        seconds = max(partials / rate, 8 * partials / port)
        e_buf = self.t.energy.buffers[self.sram]
        e_vec = self.t.energy.compute[self.hvx].vector_op_pj
        energy = {"compute": partials * e_vec.get("fp16", max(e_vec.values())) * 1e-12,
                  "sram": partials * 4 * (e_buf.read_pj_per_byte + e_buf.write_pj_per_byte)
                  * 1e-12}
        return Cost(seconds, energy, 0.0)

    def npu_vector(self, elements: int, passes: int) -> Cost:
        """Elementwise work inside an NPU subgraph (the MLP activation) on the vector unit."""
        unit = self.t.units[self.hvx]
        rate = unit.count * unit.lanes * unit.ops_per_lane_per_cycle.get("fp16", 1.0) * \
            self.t.clocks[unit.clock].freq_hz
        e_vec = self.t.energy.compute[self.hvx].vector_op_pj
        ops = elements * passes
        return Cost(ops / rate, {"compute": ops * e_vec.get("fp16", max(e_vec.values())) *
                                 1e-12}, ops / rate)

    def npu_graph_call(self) -> Cost:
        return Cost(self.rt.npu_graph_execute_overhead_s, {}, 0.0)

    # ---- CPU -------------------------------------------------------------------------------
    def cpu_peak_macs_per_s(self, dtype: str) -> float:
        return sum(self.t.peak_macs_per_s(n, dtype) for n in self.cpus)

    def cpu(self, macs: float, vector_ops: float, dtype: str, weight_bytes: float = 0.0) -> Cost:
        """MACs and elementwise ops (each at one MAC's rate, as the CPU unit model charges
        them) on all CPU clusters at the measured GEMM efficiency."""
        peak = self.cpu_peak_macs_per_s(dtype)
        work = macs + vector_ops
        compute_s = work / (peak * self.rt.cpu_gemm_efficiency_fraction)
        stream_s = weight_bytes / self.dram.bandwidth_bytes_per_s
        table = self.t.energy.compute[self.cpus[0]]
        mac_pj = table.mac_pj.get(dtype, max(table.mac_pj.values()))
        vec_pj = table.vector_op_pj.get(dtype, max(table.vector_op_pj.values()))
        energy = {"compute": (macs * mac_pj + vector_ops * vec_pj) * 1e-12}
        if weight_bytes:
            energy["dram"] = weight_bytes * self.t.energy.memories[
                self.t.main_memory].read_pj_per_byte * 1e-12
        return Cost(max(compute_s, stream_s), energy, max(work / peak, stream_s), weight_bytes)

    # ---- GPU -------------------------------------------------------------------------------
    def gpu(self, macs: float, vector_ops: float, weight_bytes: float = 0.0) -> Cost:
        """fp16 work at the GPU's measured rate. No energy: the preset has no GPU power
        figure (the caller reports energy as not modelled)."""
        seconds = max(2 * (macs + vector_ops) / self.rt.gpu_fp16_flops_per_s,
                      weight_bytes / self.dram.bandwidth_bytes_per_s)
        return Cost(seconds, {}, weight_bytes /
                    self.dram.bandwidth_bytes_per_s, weight_bytes)
