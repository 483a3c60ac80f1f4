"""Typed loader for the validation table (hwsim/validation/*.yaml).

One row = one published measurement on real hardware: the value and its unit as published, the
setup it was measured in, how hwsim reproduces it (model, target, `--set` overrides, workload or
kernel), a tolerance, a `source:` and a `use:` (`calibration` rows set a preset field and are
left out of the summary; `validation` rows are not fitted to anything). The loader rejects a bad
row with one line naming the file, the row, the field, the value and the limit (HwsimError).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hwsim.errors import HwsimError

# published unit -> (SI unit, factor to SI)
UNITS = {"token/s": ("token/s", 1.0), "s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6),
         "W": ("W", 1.0)}
# what is compared -> the SI unit it is in
METRICS = {"tokens_per_s": "token/s", "decode_tokens_per_s": "token/s", "seconds": "s",
           "power_w": "W"}
USES = ("calibration", "validation")
STACKS = ("eager", "cuda_graph", "compiled", "none")
WORKLOAD_KEYS = {"phase", "batch", "seq", "context", "gen", "quant", "kv_bits", "layers",
                 "group_size"}
KERNEL_KEYS = {"kind", "shape", "dtype"}
ROW_KEYS = {"id", "use", "measured", "metric", "setup", "simulate", "tolerance_fraction",
            "source", "note"}
SETUP_KEYS = {"model", "precision", "hardware", "batch", "prompt_tokens", "output_tokens",
              "context_tokens", "stack", "stack_kind"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True, kw_only=True)
class Setup:
    """The measurement's setup as published (free text where the source is free text)."""
    model: str
    precision: str
    hardware: str
    batch: int
    stack: str
    stack_kind: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    context_tokens: int | None = None


@dataclass(frozen=True, kw_only=True)
class Row:
    id: str
    use: str
    value: float            # as published, in `unit`
    unit: str
    metric: str
    setup: Setup
    model: str              # hwsim zoo name (ignored for kernel rows)
    target: str
    overrides: tuple[str, ...] = ()
    workload: dict = field(default_factory=dict)
    kernel: dict | None = None
    tolerance_fraction: float = 0.3
    source: str = ""
    note: str = ""
    file: str = ""

    @property
    def measured_si(self) -> float:
        """The measured value in the metric's SI unit (token/s, s or W)."""
        return self.value * UNITS[self.unit][1]


def table_paths() -> list[Path]:
    """The shipped table files, in name order."""
    return sorted(Path(__file__).parent.glob("*.yaml"))


def load_table(path: Path) -> list[Row]:
    """Rows of one YAML file (a mapping with a `rows:` list)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise HwsimError(f"validation table {Path(path).name}: not valid YAML "
                         f"({' '.join(str(err).split())})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rows"), list):
        raise HwsimError(f"validation table {Path(path).name}: needs a top-level 'rows:' list")
    return [_row(r, Path(path).name, k) for k, r in enumerate(raw["rows"])]


def load_rows(paths: list[Path] | None = None) -> list[Row]:
    """All rows of the shipped tables (or of `paths`), sorted by id; ids must be unique."""
    rows = [r for p in (paths if paths is not None else table_paths()) for r in load_table(p)]
    seen: dict[str, str] = {}
    for r in rows:
        if r.id in seen:
            raise HwsimError(f"validation table {r.file} row {r.id}: id already used in "
                             f"{seen[r.id]}")
        seen[r.id] = r.file
    return sorted(rows, key=lambda r: r.id)


def _row(raw, file: str, index: int) -> Row:
    name = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
    where = f"validation table {file} row {name}"
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: a row must be a mapping, not {type(raw).__name__}")
    _known(raw, ROW_KEYS, where)
    rid = _text(raw, "id", where)
    if not ID_RE.match(rid):
        raise HwsimError(f"{where}: id {rid!r} must be lower-case letters, digits, '.' and '-'")
    use = _choice(raw, "use", USES, where)
    metric = _choice(raw, "metric", tuple(METRICS), where)
    measured = raw.get("measured")
    if not isinstance(measured, dict):
        raise HwsimError(f"{where}: measured must be a mapping {{value, unit}}, not {measured!r}")
    value = measured.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise HwsimError(f"{where}: measured.value = {value!r}: must be a number > 0")
    unit = measured.get("unit")
    if unit not in UNITS:
        raise HwsimError(f"{where}: measured.unit = {unit!r}: must be one of {', '.join(UNITS)}")
    if UNITS[unit][0] != METRICS[metric]:
        raise HwsimError(f"{where}: measured.unit = {unit!r} does not measure metric {metric} "
                         f"(in {METRICS[metric]})")
    source = _text(raw, "source", where)
    if not re.search(r"https?://|[\w.-]+/[\w.-]+:|benchmarks/|arXiv", source):
        raise HwsimError(f"{where}: source = {source!r}: must name a URL, an owner/repo:path, "
                         "a repository file or an arXiv paper")
    tol = raw.get("tolerance_fraction", 0.3)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol <= 1:
        raise HwsimError(f"{where}: tolerance_fraction = {tol!r}: must be in (0, 1]")
    sim = raw.get("simulate")
    if not isinstance(sim, dict):
        raise HwsimError(f"{where}: simulate must be a mapping {{model, target, ...}}")
    return Row(id=rid, use=use, value=float(value), unit=unit, metric=metric,
               setup=_setup(raw.get("setup"), where), tolerance_fraction=float(tol),
               source=source, note=str(raw.get("note", "")), file=file, **_simulate(sim, where))


def _setup(raw, where: str) -> Setup:
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: setup must be a mapping (model, precision, hardware, batch, "
                         "stack, stack_kind, ...)")
    _known(raw, SETUP_KEYS, f"{where}: setup")
    ints = {}
    for key in ("batch", "prompt_tokens", "output_tokens", "context_tokens"):
        v = raw.get(key)
        if v is None and key != "batch":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise HwsimError(f"{where}: setup.{key} = {v!r}: must be an integer >= 1")
        ints[key] = v
    return Setup(model=_text(raw, "model", f"{where}: setup"),
                 precision=_text(raw, "precision", f"{where}: setup"),
                 hardware=_text(raw, "hardware", f"{where}: setup"),
                 stack=_text(raw, "stack", f"{where}: setup"),
                 stack_kind=_choice(raw, "stack_kind", STACKS, f"{where}: setup"), **ints)


def _simulate(sim: dict, where: str) -> dict:
    _known(sim, {"model", "target", "overrides", "workload", "kernel"}, f"{where}: simulate")
    target = _text(sim, "target", f"{where}: simulate")
    overrides = sim.get("overrides", [])
    if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o
                                                  for o in overrides):
        raise HwsimError(f"{where}: simulate.overrides = {overrides!r}: must be a list of "
                         "'dotted.key=value' strings")
    kernel, workload = sim.get("kernel"), sim.get("workload")
    if (kernel is None) == (workload is None):
        raise HwsimError(f"{where}: simulate needs exactly one of workload or kernel")
    if kernel is not None:
        if not isinstance(kernel, dict) or set(kernel) - KERNEL_KEYS or "kind" not in kernel:
            raise HwsimError(f"{where}: simulate.kernel = {kernel!r}: must be a mapping with "
                             f"kind, shape, dtype")
        return {"model": "", "target": target, "overrides": tuple(overrides),
                "kernel": dict(kernel)}
    if not isinstance(workload, dict):
        raise HwsimError(f"{where}: simulate.workload must be a mapping")
    _known(workload, WORKLOAD_KEYS, f"{where}: simulate.workload")
    return {"model": _text(sim, "model", f"{where}: simulate"), "target": target,
            "overrides": tuple(overrides), "workload": dict(workload)}


def _known(raw: dict, keys: set, where: str) -> None:
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise HwsimError(f"{where}: unknown field {unknown[0]!r} (known: "
                         f"{', '.join(sorted(keys))})")


def _text(raw: dict, key: str, where: str) -> str:
    v = raw.get(key)
    if not isinstance(v, str) or not v.strip():
        raise HwsimError(f"{where}: {key} = {v!r}: must be non-empty text")
    return v


def _choice(raw: dict, key: str, choices: tuple, where: str) -> str:
    v = raw.get(key)
    if v not in choices:
        raise HwsimError(f"{where}: {key} = {v!r}: must be one of {', '.join(choices)}")
    return v
