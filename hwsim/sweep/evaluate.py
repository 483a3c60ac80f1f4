"""Run points in a worker process: the roofline or the cycle tier through the API layer
(`roofline_report`, `simulate_model`). A point that fails becomes a result with `error` set,
never an exception out of here.

Each worker keeps every target it has read (YAML parsing costs ~10 ms, a sweep point ~2 ms)
and applies a point's overrides to that copy exactly as `targets.load_target` does.
"""
from __future__ import annotations

import json
from functools import lru_cache
from types import SimpleNamespace

import targets
from hwsim.api.flows.run_model import simulate_model
from hwsim.api.flows.roofline import roofline_report
from hwsim.api.flows.workload import workload_from_args
from hwsim.report import public

ENERGY_PARTS = ("compute", "sram", "dram", "pim", "static")
BYTES_PARTS = ("dram_read", "dram_write", "sram_read", "sram_write")
RESULT_COLUMNS = ("tokens_per_s", "seconds", "roofline_s", "bound", "quant_used", "cycles",
                  "energy_j", "joules_per_token", "tokens_per_joule",
                  *(f"energy_breakdown_j.{p}" for p in ENERGY_PARTS), "ttft_s", "tpot_s",
                  *(f"bytes.{p}" for p in BYTES_PARTS), "instructions", "utilization", "error")


def make_workload(fields: dict):
    """Workload fields (as in the spec) -> the compiler's Workload, with the CLI's checks."""
    return workload_from_args(SimpleNamespace(**fields))


@lru_cache(maxsize=None)
def _base(name: str):
    """(Target, its field tree) of a preset or YAML path, read once per process."""
    target = targets.load_target(name)
    return target, target.model_dump(mode="python")


@lru_cache(maxsize=64)
def target_with(name: str, override_texts: tuple):
    """targets.load_target(name, override_texts), from the cached tree."""
    base, tree = _base(name)
    if not override_texts:
        return base
    try:
        changed = with_overrides(tree, override_texts)
    except (KeyError, TypeError):   # a path build_plan did not check: let --set explain it
        changed = targets.apply_overrides(tree, override_texts, base.name)
    return targets.validate(changed, f"{base.name} with --set")


def with_overrides(tree: dict, override_texts) -> dict:
    """targets.apply_overrides for keys that build_plan has checked, copying only the groups
    on each key's path (a deep copy of the whole tree costs as much as validating it)."""
    tree = dict(tree)
    for text in override_texts:
        parts, value = targets.parse_override(text)
        node = tree
        for part in parts[:-1]:
            node[part] = dict(node[part])
            node = node[part]
        if isinstance(node[parts[-1]], dict):
            raise TypeError(parts[-1])
        node[parts[-1]] = value
    return tree


def evaluate_chunk(points) -> list[tuple[int, dict]]:
    """Points -> [(point index, result fields)]; the entry point for every engine."""
    return [(p.index, evaluate(p)) for p in points]


def evaluate(point) -> dict:
    try:
        target = target_with(point.target, point.override_texts())
        workload = make_workload(point.workload)
        if point.tier == "roofline":
            r = roofline_report(point.model, workload, target)
            return {"tokens_per_s": r["tokens_per_s"], "roofline_s": r["roofline_s"],
                    "bound": r["bound"], "quant_used": r["quant"]}
        return cycle_fields(public(simulate_model(point.model, workload, target)))
    except Exception as err:  # noqa: BLE001 -- a failing point is a row, not a failed sweep
        return {"error": error_text(err)}


def cycle_fields(r: dict) -> dict:
    out = {k: r.get(k) for k in ("tokens_per_s", "seconds", "bound", "cycles", "energy_j",
                                 "joules_per_token", "tokens_per_joule", "ttft_s", "tpot_s")}
    out["roofline_s"] = r["roofline_seconds"]
    out["quant_used"] = r["quant"]
    out.update({f"energy_breakdown_j.{p}": r["energy_breakdown_j"].get(p) for p in ENERGY_PARTS})
    out.update({f"bytes.{p}": r["bytes"].get(p) for p in BYTES_PARTS})
    out["instructions"] = sum(r["instructions"].values())
    out["utilization"] = json.dumps(r["utilization"], sort_keys=True, separators=(",", ":"))
    return out


def error_text(err: Exception) -> str:
    """Our errors (all ValueErrors) read as their one line; anything else names its type, so
    a bug in the simulator is not mistaken for a bad configuration."""
    text = " ".join(str(err).split())
    return text if isinstance(err, ValueError) else f"{type(err).__name__}: {text}"
