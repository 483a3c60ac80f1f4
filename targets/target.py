"""The Target: one typed, validated description of a hardware system, one class per family."""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from isa import Queue, Resources
from targets.energy import Energy
from targets.frozen import FrozenDict, known_fingerprint, remembered_fact
from targets.gpu_runtime import GpuRuntime
from targets.mechanisms import FpgaDspMechanisms, MobileNpuMechanisms, NpuPimMechanisms
from targets.memory import Buffer, OffChipMemory
from targets.mobile_runtime import MobileNpuRuntime
from targets.parts import Clock, Cost, Group, Source
from targets.units import AnyUnit, DspChains, PimBanks, SystolicArray

MAX_BUFFERS = 15  # ISA buffer ids 0..14; 15 names off-chip memory


class Target(Group):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str
    source: Source
    clocks: dict[str, Clock] = Field(min_length=1)
    units: dict[str, AnyUnit] = Field(min_length=1)
    buffers: dict[str, Buffer] = Field(max_length=MAX_BUFFERS)
    memories: dict[str, OffChipMemory] = Field(min_length=1)
    main_memory: str
    energy: Energy
    cost: Cost | None = None

    @model_validator(mode="after")
    def _references_resolve(self):
        for kind, parts in (("unit", self.units), ("buffer", self.buffers)):
            for name, part in parts.items():
                if part.clock not in self.clocks:
                    raise ValueError(f"{kind} {name} runs on clock {part.clock!r}, which is not "
                                     f"in clocks ({', '.join(self.clocks)})")
        for role in ("weight", "activation", "output"):
            if not any(role in b.holds for b in self.buffers.values()):
                raise ValueError(f"no buffer holds {role} operands (set `holds` on a buffer)")
        if self.main_memory not in self.memories:
            raise ValueError(f"main_memory {self.main_memory!r} is not in memories "
                             f"({', '.join(self.memories)})")
        for name, unit in self.units.items():
            if isinstance(unit, PimBanks):
                if unit.memory not in self.memories:
                    raise ValueError(f"PIM unit {name} sits in memory {unit.memory!r}, which is "
                                     f"not in memories")
                if self.energy.pim is None:
                    raise ValueError(f"PIM unit {name} needs an energy.pim table")
        _same_keys("energy.compute", self.energy.compute, "units", self.units)
        _same_keys("energy.buffers", self.energy.buffers, "buffers", self.buffers)
        _same_keys("energy.memories", self.energy.memories, "memories", self.memories)
        return self

    def fingerprint(self) -> bytes:
        """sha256 of the canonical JSON of every field: equal iff the descriptions are equal.
        A loaded (frozen, shared) target's is computed once (targets/frozen.py)."""
        known = known_fingerprint(self)
        if known is not None:
            return known
        canon = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).digest()

    def peak_macs_per_s(self, unit_name: str, dtype: str) -> float:
        unit = self.units[unit_name]
        if isinstance(unit, PimBanks):
            mem = self.memories[unit.memory]
            per_cycle = mem.channels * mem.banks_per_channel * unit.multipliers_per_bank
            return per_cycle * self.clocks[unit.clock].freq_hz if dtype == unit.dtype else 0.0
        return unit.peak_macs_per_s(dtype, self.clocks)

    def matrix_macs_per_s(self, unit_name: str, dtype: str, rows: int,
                          queue: str = "MM") -> float:
        """MAC/s a matrix product of `rows` activation rows can reach on the unit serving
        `queue`: the mode's peak x its row_fraction (a systolic array's weight folds stay
        `rows`-bound; DSP chains have a GEMV (MV) and a packed MM mode)."""
        unit = self.units[unit_name]
        peak = self.peak_macs_per_s(unit_name, dtype)
        if isinstance(unit, DspChains):
            peak = unit.mode_macs_per_cycle(dtype, queue) * self.clocks[unit.clock].freq_hz
        return peak * unit.row_fraction(rows, queue)

    def matrix_seconds(self, unit_name: str, dtype: str, rows: int,
                       dims: tuple[int, int, int, int], macs: float, queue: str = "MM") -> float:
        """Seconds of a matrix product of `rows` activation rows and `macs` MACs, made of
        (m, n, k, groups) = `dims` products, on the unit serving `queue`. A systolic array: its
        fold formula (fill and drain per fold, as the timing model charges it) for `dims`,
        scaled to `macs` (more sequences or experts of that shape), at its dtype's MACs per PE
        per cycle; other units: MACs over the rate `rows` rows reach (matrix_macs_per_s). inf
        where the unit has no mode for that many rows."""
        unit = self.units[unit_name]
        m, n, k, groups = dims
        if isinstance(unit, SystolicArray):
            rate = unit.macs_per_pe_per_cycle.get(dtype, 0.0)
            if rate <= 0 or m * n * k * groups <= 0:
                return float("inf") if rate <= 0 else 0.0
            cycles = unit.product_cycles(m, n, k, groups) / min(rate, 1.0)
            return cycles * macs / (m * n * k * groups) / self.clocks[unit.clock].freq_hz
        rate_s = self.matrix_macs_per_s(unit_name, dtype, rows, queue)
        return macs / rate_s if rate_s > 0 else float("inf")

    def units_for_queue(self, queue: str) -> list[str]:
        """Names of the units serving `queue`, in YAML order: ISA `unit` field i is the i-th."""
        return [name for name, unit in self.units.items() if queue in unit.queues]

    def isa_resources(self) -> Resources:
        """What the ISA verifier needs: buffer sizes by id, served queues, PIM, memory size.
        A loaded (frozen, shared) target's is built once (targets/frozen.py)."""
        return remembered_fact(self, "isa_resources", self._isa_resources)

    def _isa_resources(self) -> Resources:
        return Resources(
            target_name=self.name,
            buffers=tuple((name, b.size_bytes) for name, b in self.buffers.items()),
            units_per_queue=FrozenDict({q: len(self.units_for_queue(q.name)) for q in Queue}),
            pim=any(isinstance(u, PimBanks) for u in self.units.values()),
            dram_bytes=self.memories[self.main_memory].capacity_bytes,
        )


def _same_keys(left_name: str, left: dict, right_name: str, right: dict) -> None:
    missing, extra = set(right) - set(left), set(left) - set(right)
    if missing:
        raise ValueError(f"{left_name} has no entry for {right_name} {sorted(missing)[0]!r}")
    if extra:
        raise ValueError(f"{left_name} names {sorted(extra)[0]!r}, which is not in {right_name}")


class FpgaDspTarget(Target):
    family: Literal["fpga_dsp"]
    mechanisms: FpgaDspMechanisms


class NpuPimTarget(Target):
    family: Literal["npu_pim"]
    mechanisms: NpuPimMechanisms


class MobileNpuTarget(Target):
    family: Literal["mobile_npu"]
    mechanisms: MobileNpuMechanisms
    runtime: MobileNpuRuntime


class GpuTarget(Target):
    family: Literal["gpu"]
    runtime: GpuRuntime | None = None  # software-stack costs (targets/gpu_runtime.py)

    @model_validator(mode="after")
    def _cuda_core_rates_given(self):
        """runtime.gemm_datapath = cuda_core runs GEMMs at the fp32 and int8 (DP4A) rates:
        every GPU unit must give both."""
        if self.runtime is None or self.runtime.gemm_datapath != "cuda_core":
            return self
        for name, unit in self.units.items():
            missing = [d for d in ("fp32", "int8") if d not in unit.peak_flops_per_s]
            if unit.kind == "gpu" and missing:
                raise ValueError(f"runtime.gemm_datapath = cuda_core needs units.{name}."
                                 f"peak_flops_per_s[{missing[0]!r}], which this target lacks")
            if getattr(unit, "gemm_wave_quantization", False):
                raise ValueError(f"runtime.gemm_datapath = cuda_core with units.{name}."
                                 "gemm_wave_quantization = true: waves are modelled for "
                                 "tensor-core tiles only (hwsim/timing/gpu_waves.py)")
        return self


AnyTarget = Annotated[Union[FpgaDspTarget, NpuPimTarget, MobileNpuTarget, GpuTarget],
                      Field(discriminator="family")]
FAMILIES = ("fpga_dsp", "npu_pim", "mobile_npu", "gpu")
