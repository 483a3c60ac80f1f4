"""`hwsim demo`: the main job on the built-in default (LLaMA2-7B decode on flightllm-u280),
compiled and simulated, with the step's time split by op kind."""
from __future__ import annotations

from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.simulate import simulate_program

DEFAULT_MODEL, DEFAULT_TARGET = "llama2-7b", "flightllm-u280"
DEFAULT_WORKLOAD = Workload(phase="decode", batch=1, context=512)


def demo_run(target) -> tuple[dict, dict, list]:
    """(simulate's dict, compile facts, [[op kind, ops, busy seconds], ...] largest first)."""
    compiled = compile_model(load_model(DEFAULT_MODEL), DEFAULT_WORKLOAD, target)
    result = simulate_program(compiled.program, target, DEFAULT_WORKLOAD.batch)
    w = compiled.graph.workload
    result.update(model=DEFAULT_MODEL, target=target.name, phase=w.phase, batch=w.batch,
                  seq=w.seq, context=w.context, quant=w.quant, kv_bits=w.kv_bits)
    facts = {"instructions": len(compiled.program), "compile_seconds": compiled.seconds}
    return result, facts, by_kind(result, compiled.program)


def by_kind(result: dict, program) -> list:
    """Busy seconds of the instructions of each op kind, summed over their units (units run
    at the same time, so these add up to more than the step time)."""
    d = result["_detail"]
    a, busy = d["arrays"], d["end"] - d["start"]
    kinds = {op["name"]: op["kind"] for op in program.metadata["ops"]}
    totals: dict[str, list] = {}
    for k, name in enumerate(a.op_names):
        sel = a.op_index == k
        row = totals.setdefault(kinds[name], [0, 0.0])
        row[0] += 1
        row[1] += float(busy[sel].sum())
    return [[kind, n, s] for kind, (n, s) in sorted(totals.items(), key=lambda kv: -kv[1][1])]
