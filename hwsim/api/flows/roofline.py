"""The roofline of a whole model: the program bound of the run `simulate` makes."""
from __future__ import annotations

from compiler.frontend import load_model
from compiler.pipeline import resolve_workload
from compiler.sub_batch import compile_step
from hwsim.api.flows.run_model import simulate_model, step_tokens
from hwsim.roofline import program_roofline


def roofline_report(model_name, workload, target) -> dict:
    """hwsim.roofline.program_roofline on the program `simulate` compiles for the same run, so
    `hwsim roofline` and `simulate`'s roofline_seconds are one number (issue 18, finding 9).
    generate and mllm-NPU's block-scheduled prefill compose several programs: their bound is
    the simulate flow's own roofline_seconds, with no per-op rows.
    `model_name`: a zoo name or path, or a ModelSpec."""
    model = load_model(model_name) if isinstance(model_name, str) else model_name
    workload = resolve_workload(workload, target)
    if workload.phase == "generate" or (workload.phase == "prefill"
                                        and target.family == "mobile_npu"):
        run = simulate_model(model, workload, target)
        result, tokens = {"ops": [], "roofline_s": run["roofline_seconds"],
                          "bound": run["bound"]}, run["tokens"]
    else:
        result = program_roofline(compile_step(model, workload, target).program, target)
        tokens = step_tokens(workload)
    return {"model": model.name, "target": target.name, "phase": workload.phase,
            "batch": workload.batch, "quant": workload.quant, **result,
            "tokens_per_s": tokens / result["roofline_s"] if result["roofline_s"] else 0.0}
