"""A checked spec -> the list of points, each with a stable key, and the output columns.

Before any point runs, `build_plan` loads every target and applies every `set` and axis key to
it exactly as `--set` does, and builds every workload: a typo anywhere is one HwsimError line.
Values of the axes are checked per point (an invalid value becomes an error row).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass

import targets
from hwsim.errors import HwsimError
from hwsim.sweep.evaluate import RESULT_COLUMNS, make_workload
from hwsim.sweep.spec import WORKLOAD_DEFAULTS, Spec, TargetEntry, override_text

INPUT_COLUMNS = ("point", "key", "model", "target", "tier", *WORKLOAD_DEFAULTS)


@dataclass(frozen=True)
class Point:
    """One run: a model and a workload on a target with overrides, at one fidelity tier."""
    index: int
    key: str
    model: str
    target: str
    tier: str
    workload: dict      # every WORKLOAD_DEFAULTS field
    overrides: dict     # dotted key -> value, as --set parses it

    def override_texts(self) -> tuple[str, ...]:
        return tuple(f"{k}={override_text(v)}" for k, v in self.overrides.items())


@dataclass(frozen=True)
class Plan:
    spec: Spec
    points: tuple       # Point, by index
    columns: tuple      # INPUT_COLUMNS + one per override key + RESULT_COLUMNS
    by_key: dict        # key -> Point


def point_key(model: str, target: str, tier: str, workload: dict, overrides: dict) -> str:
    """16 hex digits of SHA-256 over the point's inputs in canonical JSON (sorted keys, floats
    as their shortest repr): the same inputs give the same key in any process or run."""
    blob = json.dumps({"model": model, "target": target, "tier": tier, "workload": workload,
                       "set": overrides}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def build_plan(spec: Spec, check_model) -> Plan:
    """Check the spec against the real models, targets and workload rules, then expand it.

    `check_model(name)` raises ValueError for an unknown or malformed model.
    Order: targets (spec order) > axis settings (grid: last axis fastest; random: draw order) >
    models > workloads. Points with identical inputs are kept once.
    """
    for i, model in enumerate(spec.models):
        try:
            check_model(model)
        except ValueError as err:
            raise HwsimError(f"{spec.path}: models[{i}]: {err}") from None
    for i, fields in enumerate(spec.workloads):
        try:
            make_workload(fields)
        except ValueError as err:
            raise HwsimError(f"{spec.path}: workload {_describe(fields)}: {err}") from None
    for i, entry in enumerate(spec.targets):
        check_target(entry, f"{spec.path}: targets[{i}]")
    points, seen = [], set()
    for t_index, entry in enumerate(spec.targets):
        for setting in axis_settings(entry, spec, t_index):
            overrides = {**entry.fixed, **setting}
            for model in spec.models:
                for workload in spec.workloads:
                    key = point_key(model, entry.name, spec.tier, workload, overrides)
                    if key not in seen:
                        seen.add(key)
                        points.append(Point(len(points), key, model, entry.name, spec.tier,
                                            workload, overrides))
    columns = INPUT_COLUMNS + override_columns(spec) + RESULT_COLUMNS
    return Plan(spec, tuple(points), columns, {p.key: p for p in points})


def check_target(entry: TargetEntry, where: str) -> None:
    """Load the target with its fixed overrides (a bad value there fails every point, so it is
    a spec error), then apply each axis key as --set does (unknown key: a spec error)."""
    fixed = [f"{k}={override_text(v)}" for k, v in entry.fixed.items()]
    try:
        base = targets.load_target(entry.name, fixed)
    except targets.TargetError as err:
        raise HwsimError(f"{where}: {err}") from None
    tree = base.model_dump(mode="python")
    for axis in entry.axes:
        text = f"{axis.key}={override_text(axis.grid()[0] if axis.values or axis.num else axis.lo)}"
        try:
            targets.apply_overrides(tree, [text], base.name)
        except targets.TargetError as err:
            message = str(err).removeprefix(f"--set {text}: ")
            raise HwsimError(f"{where}: axes.{axis.key}: {message}") from None


def axis_settings(entry: TargetEntry, spec: Spec, t_index: int) -> list[dict]:
    """The axis values of each point of one target: the grid, or `random` seeded draws."""
    axes = entry.axes
    if spec.random_points is None:
        return [dict(zip((a.key for a in axes), values))
                for values in itertools.product(*(a.grid() for a in axes))]
    rng = random.Random(f"{spec.seed}/{t_index}/{entry.name}")
    return [{a.key: a.draw(rng.random()) for a in axes} for _ in range(spec.random_points)]


def override_columns(spec: Spec) -> tuple[str, ...]:
    """One column per overridden key, in order of first appearance in the spec."""
    names = []
    for entry in spec.targets:
        for key in [*entry.fixed, *(a.key for a in entry.axes)]:
            if key not in names:
                names.append(key)
    for key in names:
        if key in INPUT_COLUMNS or key in RESULT_COLUMNS:
            raise HwsimError(f"{spec.path}: the target field {key!r} has the name of an output "
                             "column; give its full dotted path")
    return tuple(names)


def _describe(fields: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items() if v != WORKLOAD_DEFAULTS[k]) or \
        "(defaults)"
