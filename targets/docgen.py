"""Render the schema reference in docs/targets.md from the pydantic models.

`python -m targets.docgen` rewrites the part of docs/targets.md between the BEGIN/END markers;
a test fails when that part is stale.
"""
from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from isa import DTYPE_NAMES
from targets.energy import BufferEnergy, ComputeEnergy, Energy, MemoryEnergy, PimEnergy, StaticPower
from targets.mechanisms import FpgaDspMechanisms, MobileNpuMechanisms, NpuPimMechanisms
from targets.memory import Buffer, DramTiming, OffChipMemory
from targets.gpu_runtime import AwqGemmKernel, CudaCoreGemm, GpuRuntime, GpuStackCosts
from targets.mobile_runtime import MobileNpuRuntime
from targets.parts import Clock, Cost
from targets.ranges import FIELD_RANGES, MAX_DRAM_BANKS, SUFFIX_RANGES, range_of, show_number
from targets.target import FpgaDspTarget, GpuTarget, MobileNpuTarget, NpuPimTarget
from targets.units import CpuCluster, DspChains, GpuCores, PimBanks, SystolicArray, VectorUnit

BEGIN = "<!-- BEGIN GENERATED SCHEMA (python -m targets.docgen) -->"
END = "<!-- END GENERATED SCHEMA -->"

SECTIONS = (
    ("Target (one per family)", (FpgaDspTarget, NpuPimTarget, MobileNpuTarget, GpuTarget)),
    ("Clocks and cost", (Clock, Cost)),
    ("Compute units (`units.NAME`, chosen by `kind`)",
     (SystolicArray, DspChains, VectorUnit, PimBanks, CpuCluster, GpuCores)),
    ("Buffers and memories", (Buffer, OffChipMemory, DramTiming)),
    ("Energy", (Energy, ComputeEnergy, BufferEnergy, MemoryEnergy, PimEnergy, StaticPower)),
    ("Mechanism switches", (FpgaDspMechanisms, NpuPimMechanisms, MobileNpuMechanisms)),
    ("Measured runtime costs (mobile NPU)", (MobileNpuRuntime,)),
    ("Software-stack costs (GPU, `runtime:`)",
     (GpuRuntime, GpuStackCosts, CudaCoreGemm, AwqGemmKernel)),
)


def _type_name(annotation) -> str:
    """A readable type: dtype keys, Literal choices joined by |, constraints left out."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "dtype" if args == DTYPE_NAMES else " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is dict:
        return f"map {_type_name(args[0])} -> {_type_name(args[1])}"
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if annotation is type(None):
        return "null"
    name = getattr(annotation, "__name__", str(annotation))
    return "name" if name == "str" else name


def _constraints(info) -> str:
    out = []
    for item in info.metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="),
                           ("min_length", "min length"), ("max_length", "max length")):
            value = getattr(item, attr, None)
            if value is not None:
                out.append(f"{sign} {value}")
    return ", ".join(out)


def _range(name: str, info) -> str:
    span = range_of(name) if _numeric(info.annotation) else None
    if span is None:
        return ""
    low, high, unit = span
    return f"range [{show_number(low)}, {show_number(high)}]{' ' + unit if unit else ''}"


def _numeric(annotation) -> bool:
    if annotation in (int, float):
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is dict:
        return _numeric(args[1])
    return any(_numeric(a) for a in args if a is not type(None))


def model_table(model: type[BaseModel]) -> list[str]:
    lines = [f"### `{model.__name__}`", ""]
    doc = (model.__doc__ or "").strip().splitlines()
    if doc:
        lines += [" ".join(x.strip() for x in doc), ""]
    lines += ["| field | type | required | limits |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        required = "yes" if info.is_required() else f"no (default {info.default!r})"
        limits = ", ".join(x for x in (_constraints(info), _range(name, info)) if x)
        lines.append(f"| `{name}` | {_type_name(info.annotation)} | {required} | {limits} |")
    return lines + [""]


def ranges_table() -> list[str]:
    """The plausibility ranges of targets/ranges.py: by field name, then by unit suffix."""
    lines = ["## Plausibility ranges", "",
             "Every number of a target must lie in the range of its field (inclusive), found by "
             "the field's name, else by the unit suffix of its name (longest first); an "
             "infinite or NaN value never does. A value outside is refused with one line, e.g. "
             "`clocks.sm: freq_hz = 1e+30 is outside the plausible range [1e+06, 1e+10] Hz`. "
             "The ranges are a decade or more beyond any machine built so far: they catch typos "
             "and overflow, not unusual designs. In addition, a memory's channels x "
             f"ranks_per_channel x banks_per_channel may not exceed {MAX_DRAM_BANKS} "
             "(the bank model keeps state per bank).", "",
             "| field or suffix | least | greatest | unit |", "|---|---|---|---|"]
    for key, (low, high, unit) in {**FIELD_RANGES, **SUFFIX_RANGES}.items():
        lines.append(f"| `{key}` | {show_number(low)} | {show_number(high)} | {unit} |")
    return lines + [""]


def render() -> str:
    lines = [BEGIN, ""]
    for title, models in SECTIONS:
        lines += [f"## {title}", ""]
        for model in models:
            lines += model_table(model)
    lines += ranges_table()
    return "\n".join(lines + [END])


def update(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(head + render() + (tail or "\n"), encoding="utf-8")


if __name__ == "__main__":
    update(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/targets.md"))
