"""The records the API returns: frozen, with units in their field names, `.to_dict()` equal to
the CLI's `--json` and `.to_frame()` for pandas users.

`Result` holds the fields DESIGN.md fixes for `simulate --json` as attributes; every other field
of that JSON (per-channel DRAM counters, `kv_bits`, `tokens`, the mobile-prefill schedule, ...)
sits in `extra`, so `to_dict()` gives back exactly the JSON object, no more and no less.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

# fields present in every result's JSON only for some phases (generate: ttft_s, tpot_s)
_OPTIONAL = ("ttft_s", "tpot_s")


def dumps_json(value) -> str:
    """Deterministic JSON, as the CLI prints it: sorted keys, two-space indent, final newline."""
    return json.dumps(value, sort_keys=True, indent=2) + "\n"


# leaf types every walk below returns as they are, checked first: isinstance against the
# Mapping ABC costs a microsecond for each of a result's hundreds of numbers
_PLAIN_LEAVES = frozenset({float, int, str, bool, type(None)})


def plain(value):
    """Nested mappings and sequences with numpy scalars -> plain JSON types; keys starting with
    `_` (private arrays) are dropped."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if kind is dict or isinstance(value, Mapping):  # a plain dict skips the ABC check
        return {k: v if type(v) in _PLAIN_LEAVES else plain(v)  # leaves without a call
                for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN_LEAVES else plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()        # numpy scalar
    return value


def _frozen(value):
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if kind is dict or isinstance(value, Mapping):
        return MappingProxyType({k: v if type(v) in _PLAIN_LEAVES else _frozen(v)
                                 for k, v in value.items()})
    if isinstance(value, list):
        return tuple([v if type(v) in _PLAIN_LEAVES else _frozen(v) for v in value])
    return value


@dataclass(frozen=True)
class Result:
    """One simulation: a step (prefill / decode), a whole generation, or a kernel.

    Times in seconds (`seconds`, `roofline_seconds`, `ttft_s`, `tpot_s`), energy in joules,
    bytes in bytes, `cycles` at the clock of the target's matrix unit, `utilization` as
    fractions of the run's time. `energy_j` and its breakdown are None where the target has no
    power figure for the processor that ran (the mobile SoC's GPU)."""

    model: str
    target: str
    phase: str
    batch: int
    seq: int
    context: int
    quant: str
    cycles: int
    seconds: float
    tokens_per_s: float
    energy_j: float | None
    joules_per_token: float | None
    tokens_per_joule: float | None
    energy_breakdown_j: Mapping[str, float] | None
    bytes: Mapping[str, float]
    utilization: Mapping[str, float]
    roofline_seconds: float
    bound: str
    instructions: Mapping[str, int]
    ttft_s: float | None = None
    tpot_s: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    detail: Any = field(default=None, repr=False, compare=False)   # arrays for traces, CSV

    @classmethod
    def from_dict(cls, raw: Mapping) -> "Result":
        """A simulation dict (the flows' form) -> Result; `_detail` becomes `.detail`."""
        public = plain(raw)
        known = {n: _frozen(public[n]) for n in _RESULT_NAMES if n in public}
        extra = {k: v for k, v in public.items() if k not in known}
        return cls(**known, extra=_frozen(extra), detail=raw.get("_detail"))

    def to_dict(self) -> dict:
        """Plain JSON types; `hwsim simulate ... --json` prints exactly this (sorted keys)."""
        out = {n: getattr(self, n) for n in _RESULT_NAMES
               if not (n in _OPTIONAL and getattr(self, n) is None)}
        return _thaw({**out, **self.extra})

    def to_json(self) -> str:
        return dumps_json(self.to_dict())

    def to_frame(self):
        """A one-row pandas DataFrame (nested fields flattened with dots, e.g.
        `energy_breakdown_j.dram`). Needs pandas (`pip install hwsim[api]`)."""
        return frame([self])

    def _internal(self) -> dict:
        """The dict the report formatters take (with `_detail` when the run kept it)."""
        out = self.to_dict()
        if self.detail is not None:
            out["_detail"] = self.detail
        return out


_RESULT_NAMES = tuple(f.name for f in fields(Result) if f.name not in ("extra", "detail"))


@dataclass(frozen=True)
class Roofline:
    """The program bound `simulate` reports as roofline_seconds (hwsim.roofline): per resource
    the sum of work / peak, the busiest resource's. `roofline_s` in seconds; `ops` one mapping
    per op (unit, flops, bytes, peak_flops_per_s, roofline_s, bound)."""

    model: str
    target: str
    phase: str
    batch: int
    quant: str
    roofline_s: float
    bound: str
    tokens_per_s: float
    ops: tuple
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping) -> "Roofline":
        public = plain(raw)
        names = [f.name for f in fields(cls) if f.name != "extra"]
        known = {n: _frozen(public[n]) for n in names}
        return cls(**known, extra=_frozen({k: v for k, v in public.items() if k not in known}))

    def to_dict(self) -> dict:
        """Plain JSON types; `hwsim roofline ... --json` prints exactly this."""
        return _thaw({**{f.name: getattr(self, f.name) for f in fields(self)
                         if f.name != "extra"}, **self.extra})

    def to_json(self) -> str:
        return dumps_json(self.to_dict())

    def to_frame(self):
        """One row per op. Needs pandas."""
        pd = _pandas()
        return pd.DataFrame([dict(op) for op in self.to_dict()["ops"]])


def _thaw(value):
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if kind is MappingProxyType or isinstance(value, Mapping):
        return {k: v if type(v) in _PLAIN_LEAVES else _thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN_LEAVES else _thaw(v) for v in value]
    return value


def _flatten(record: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _pandas():
    try:
        import pandas
    except ImportError:
        from hwsim.errors import HwsimError
        raise HwsimError("to_frame() needs pandas: pip install 'hwsim[api]'") from None
    return pandas


def frame(results):
    """Results (or Roofline records) -> a pandas DataFrame, one row each, nested fields
    flattened with dots (`energy_breakdown_j.dram`, `utilization.sm`)."""
    pd = _pandas()
    return pd.DataFrame([_flatten(r.to_dict()) for r in results])
