"""`hwsim compile`: compile a model for a target and summarise the program (instructions per
queue, code and off-chip bytes, buffer use, optionally the length-adaptive decode report)."""
from __future__ import annotations

import isa
from compiler.buffer_plan import buffer_use
from compiler.errors import CompilerError
from compiler.length_adaptive import length_adaptive_report
from compiler.pipeline import compile_model


def compile_with_summary(model, workload, target, output: str,
                         length_adaptive: int | None) -> tuple[isa.Program, dict, float]:
    """(program, the summary `hwsim compile --json` prints, compile seconds)."""
    compiled = compile_model(model, workload, target)
    program = compiled.program
    summary = {"model": model.name, "target": target.name, "output": output,
               "instructions": program.counts_per_queue(), "instruction_bytes":
               len(program) * isa.WORD_BYTES, "compile_seconds": round(compiled.seconds, 3),
               "dram_bytes": compiled.graph.meta["dram_bytes"],
               "quant": compiled.graph.workload.quant,
               "buffers": buffer_use(target, compiled.graph.meta["resident_peak_bytes"])}
    if length_adaptive:
        summary["length_adaptive"] = _length_adaptive(model, compiled.graph.workload, target,
                                                      length_adaptive)
    return program, summary, compiled.seconds


def _length_adaptive(model, workload, target, max_len: int) -> dict:
    if max_len < 1:
        raise CompilerError(f"--length-adaptive must be >= 1, not {max_len}")
    return length_adaptive_report(model, workload, target, max_len).to_json()  # the
    # target's bucket: one length per program with length_adaptive_compilation off
