"""Read and check a sweep spec (YAML) into plain, typed values; no target or model is loaded here.

    tier: roofline | cycle            # fidelity tier of every point (default roofline)
    models: [llama2-7b, ...]          # zoo names or HF config.json paths
    targets: [flightllm-u280, ...]    # preset names or YAML paths; or {target: NAME, set: {...},
                                      #   axes: {...}} for overrides and axes of that target only
    workloads: [{phase: decode, batch: [1, 8], context: 512}, ...]   # a list multiplies
    set: {dotted.key: value}          # fixed overrides for every target
    axes: {dotted.key: AXIS}          # AXIS: [v1, v2, ...] or {from: A, to: B, num: N, log: bool}
    sample: grid | {random: N, seed: S}

Every problem is one HwsimError line naming the spec file, the entry and the value.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from hwsim.errors import HwsimError
from targets import TargetError, parse_override, safe_yaml

TIERS = ("roofline", "cycle")
WORKLOAD_DEFAULTS = {"phase": "decode", "batch": 1, "seq": 128, "context": 128, "gen": 128,
                     "quant": "auto", "kv_bits": 16, "sparsity": None, "layers": None}
TOP_KEYS = ("tier", "models", "targets", "workloads", "set", "axes", "sample", "name",
            "description")
TARGET_KEYS = ("target", "set", "axes")
RANGE_KEYS = ("from", "to", "num", "log")


@dataclass(frozen=True)
class Axis:
    """One swept target field: discrete `values`, or a range [lo, hi] (`num` grid points,
    geometric spacing when `log`); `integer` when both ends are integers."""
    key: str
    values: tuple = ()
    lo: float | None = None
    hi: float | None = None
    num: int | None = None
    log: bool = False
    integer: bool = False

    def grid(self) -> list:
        if self.values:
            return list(self.values)
        return [self.at(i / (self.num - 1) if self.num > 1 else 0.0) for i in range(self.num)]

    def at(self, u: float):
        """The range value at fraction u in [0, 1] (geometric when `log`)."""
        if self.log:
            value = self.lo * (self.hi / self.lo) ** u
        else:
            value = self.lo + (self.hi - self.lo) * u
        return int(round(value)) if self.integer else value

    def draw(self, u: float):
        """A random value from u uniform in [0, 1): a listed value, or a point of the range."""
        if self.values:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        return self.at(u)


@dataclass(frozen=True)
class TargetEntry:
    name: str
    fixed: dict = field(default_factory=dict)   # dotted key -> value, every point of the target
    axes: tuple = ()                            # Axis, in spec order


@dataclass(frozen=True)
class Spec:
    path: str
    tier: str
    models: tuple
    targets: tuple          # TargetEntry
    workloads: tuple        # dicts with every WORKLOAD_DEFAULTS key, lists multiplied out
    random_points: int | None = None
    seed: int = 0


def load_spec(path: str) -> Spec:
    """Read SPEC.yaml and check its shape; raises HwsimError (one line) on any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HwsimError(f"cannot read sweep spec {path}: {getattr(err, 'strerror', None) or err}"
                         ) from None
    try:
        raw = safe_yaml.load(text, path)  # depth, size, duplicate keys, no aliases
    except TargetError as err:
        raise HwsimError(str(err)) from None
    return parse_spec(raw, path)


def parse_spec(raw, path: str = "<spec>") -> Spec:
    if not isinstance(raw, dict):
        raise HwsimError(f"{path}: a sweep spec must be a mapping, not {type(raw).__name__}")
    _known(raw, TOP_KEYS, path, "")
    tier = raw.get("tier", "roofline")
    if tier not in TIERS:
        raise HwsimError(f"{path}: tier {tier!r} is not one of {', '.join(TIERS)}")
    models = _names(raw, "models", path)
    fixed = _overrides(raw.get("set"), f"{path}: set")
    axes = _axes(raw.get("axes"), f"{path}: axes")
    entries = []
    for i, entry in enumerate(_list(raw, "targets", path)):
        where = f"{path}: targets[{i}]"
        if isinstance(entry, str) and entry:
            entries.append(TargetEntry(entry, dict(fixed), tuple(axes.values())))
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
            raise HwsimError(f"{where}: expected a target name or {{target: NAME, set: ..., "
                             f"axes: ...}}, got {entry!r}")
        _known(entry, TARGET_KEYS, where, "")
        own_axes = {**axes, **_axes(entry.get("axes"), f"{where}.axes")}
        entries.append(TargetEntry(entry["target"],
                                   {**fixed, **_overrides(entry.get("set"), f"{where}.set")},
                                   tuple(own_axes.values())))
    workloads = []
    for i, entry in enumerate(raw.get("workloads") or [{}]):
        workloads += _workloads(entry, f"{path}: workloads[{i}]")
    random_points, seed = _sample(raw.get("sample", "grid"), f"{path}: sample")
    for entry in entries:
        for axis in entry.axes:
            if random_points is None and not axis.values and axis.num is None:
                raise HwsimError(f"{path}: axes.{axis.key}: a range needs num for a grid "
                                 "sample (or sample: {random: N, seed: S})")
    return Spec(path, tier, tuple(models), tuple(entries), tuple(workloads), random_points, seed)


def _known(mapping: dict, allowed, where: str, what: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise HwsimError(f"{where}: unknown {what}field {key!r} (fields: {', '.join(allowed)})")


def _list(raw: dict, key: str, path: str) -> list:
    value = raw.get(key)
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise HwsimError(f"{path}: {key} must be a non-empty list")
    return value


def _names(raw: dict, key: str, path: str) -> list[str]:
    names = _list(raw, key, path)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise HwsimError(f"{path}: {key}[{i}] must be a name, not {name!r}")
    return names


def canonical(key: str, value, where: str):
    """The value exactly as `--set key=<text>` would parse it (so '2e8' is the float 2e8)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise HwsimError(f"{where}: {key}: {value!r} is not a finite number")
    try:
        return parse_override(f"{key}={override_text(value)}")[1]
    except TargetError as err:
        raise HwsimError(f"{where}: {err}") from None


def override_text(value) -> str:
    """The `--set` text of a value; parse_override reads it back as the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _overrides(raw, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: expected a mapping of dotted.key: value")
    return {str(k): canonical(str(k), v, where) for k, v in raw.items()}


def _axes(raw, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: expected a mapping of dotted.key: values")
    return {str(k): _axis(str(k), v, f"{where}.{k}") for k, v in raw.items()}


def _axis(key: str, raw, where: str) -> Axis:
    if isinstance(raw, list):
        if not raw:
            raise HwsimError(f"{where}: an axis needs at least one value")
        return Axis(key, values=tuple(canonical(key, v, where) for v in raw))
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: expected a list of values or {{from, to, num, log}}, "
                         f"got {raw!r}")
    _known(raw, RANGE_KEYS, where, "range ")
    ends = [canonical(key, raw.get(k), where) for k in ("from", "to")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in ends):
        raise HwsimError(f"{where}: from and to must be numbers, got {ends[0]!r} and {ends[1]!r}")
    num, log = raw.get("num"), raw.get("log", False)
    if num is not None and (not isinstance(num, int) or isinstance(num, bool) or num < 1):
        raise HwsimError(f"{where}: num must be an integer >= 1, not {num!r}")
    if not isinstance(log, bool):
        raise HwsimError(f"{where}: log must be true or false, not {log!r}")
    if log and (ends[0] <= 0 or ends[1] <= 0):
        raise HwsimError(f"{where}: a log range needs from and to > 0, got {ends[0]} and "
                         f"{ends[1]}")
    return Axis(key, lo=ends[0], hi=ends[1], num=num, log=log,
                integer=all(isinstance(v, int) for v in ends))


def _workloads(raw, where: str) -> list[dict]:
    """One workload entry -> its workloads (a list value multiplies, in field order)."""
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: expected a mapping of workload fields "
                         f"({', '.join(WORKLOAD_DEFAULTS)}), got {raw!r}")
    raw = {str(k).replace("-", "_"): v for k, v in raw.items()}
    _known(raw, WORKLOAD_DEFAULTS, where, "workload ")
    out = [{}]
    for name, default in WORKLOAD_DEFAULTS.items():
        values = raw.get(name, default)
        values = values if isinstance(values, list) else [values]
        if not values:
            raise HwsimError(f"{where}: {name} lists no value")
        for v in values:
            _check_workload_value(name, v, where)
        out = [{**w, name: v} for w in out for v in values]
    return out


def _check_workload_value(name: str, value, where: str) -> None:
    if value is None and WORKLOAD_DEFAULTS[name] is None:
        return
    want = type(WORKLOAD_DEFAULTS[name]) if WORKLOAD_DEFAULTS[name] is not None else (
        int if name == "layers" else str)
    if not isinstance(value, want) or isinstance(value, bool):
        hint = " (quote N:M: YAML reads 2:4 unquoted as the number 124)" \
            if name == "sparsity" and isinstance(value, int) else ""
        raise HwsimError(f"{where}: {name} must be {'an integer' if want is int else 'text'}, "
                         f"not {value!r}{hint}")


def _sample(raw, where: str) -> tuple[int | None, int]:
    if raw == "grid":
        return None, 0
    if not isinstance(raw, dict):
        raise HwsimError(f"{where}: expected grid or {{random: N, seed: S}}, got {raw!r}")
    _known(raw, ("random", "seed"), where, "")
    count, seed = raw.get("random"), raw.get("seed", 0)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise HwsimError(f"{where}: random must be a number of points >= 1, not {count!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise HwsimError(f"{where}: seed must be an integer, not {seed!r}")
    return count, seed
