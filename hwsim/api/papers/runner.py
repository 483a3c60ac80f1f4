"""Runs simulations for the claims, through the same API as `hwsim simulate`, and remembers
each (model, target, overrides, workload) result so comparisons sharing a baseline run it once."""
from __future__ import annotations

from compiler.ir.workload import Workload
from hwsim.api.flows.run_model import simulate_model
from targets import load_target


class Runner:
    def __init__(self) -> None:
        self._results: dict[tuple, dict] = {}

    def simulate(self, model, target: str, overrides: tuple[str, ...] = (),
                 **workload) -> dict:
        """simulate_model(model, Workload(**workload), target with `--set overrides`)."""
        key = (model, target, tuple(overrides), tuple(sorted(workload.items())))
        if key not in self._results:
            self._results[key] = simulate_model(model, Workload(**workload),
                                                load_target(target, list(overrides)))
        return self._results[key]
