"""The compiler, top to bottom: model + workload + target -> isa.Program.

    build      ModelSpec x Workload -> graph of one forward pass (compiler.ir.builder)
    quantize   weight / activation / KV dtypes and scales for the scheme
    sparsify   N:M or block sparsity marks on weights
    fuse       activations become matrix-op epilogues
    partition  queue, unit and opcode per op by hardware affinity
    fuse_attention  QK^T, softmax, PV as one tiled kernel where the unit runs it so
    tile       double-buffered tiles that fit the target's buffers
    schedule   the order ops are emitted in (ASAP levels, program order within a level)
    allocate   off-chip layout; which activations stay on chip (liveness in schedule order,
               the order code generation emits); refuse what does not fit
    codegen    instructions with dependency tokens -> isa.Program, checked by isa.verify
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import isa
from compiler.codegen.generate import generate
from compiler.errors import CompilerError
from compiler.ir.builder import build_graph
from compiler.ir.graph import Graph
from compiler.ir.workload import Workload
from compiler.model import ModelSpec
from compiler.passes import (allocate, fuse, fuse_attention, partition, quantize, schedule,
                             sparsify, tile)
from compiler.quant_defaults import DEFAULT_QUANT

PASSES = (quantize, sparsify, fuse, partition, fuse_attention, tile, schedule, allocate)


@dataclass(frozen=True)
class Compiled:
    program: isa.Program  # or an isa.compact.CompactProgram (compile_model's `compact`)
    graph: Graph
    seconds: float


def resolve_workload(workload: Workload, target) -> Workload:
    """Fill the target family's default quantization when the workload names none."""
    if workload.quant in (None, "", "auto"):
        return replace(workload, quant=DEFAULT_QUANT[target.family])
    return workload


def lower(model: ModelSpec, workload: Workload, target) -> Graph:
    graph = build_graph(model, resolve_workload(workload, target))
    for step in PASSES:
        graph = step.run(graph, target)
    return graph


def compile_graph(graph: Graph, target, annotate: bool = False) -> Compiled:
    """Run the passes and code generation on a graph that is already built (kernels)."""
    start = time.perf_counter()
    for step in PASSES:
        graph = step.run(graph, target)
    program = generate(graph, target, annotate)
    isa.verify(program, target.isa_resources())
    return Compiled(program, graph, time.perf_counter() - start)


def compile_model(model: ModelSpec, workload: Workload, target, annotate: bool = False,
                  compact: bool = False) -> Compiled:
    """Run every pass and code generation; the program is verified against the target.
    `annotate`: add the functional annotations hwsim.functional needs (metadata "notes").
    `compact`: an isa.CompactProgram where the decoder layers repeat (its `flatten()` is the
    Program compiled without it; compiler.codegen.compact)."""
    start = time.perf_counter()
    if workload.phase == "generate":
        workload = replace(workload, phase="decode", context=workload.seq + workload.gen - 1)
    graph = lower(model, workload, target)
    program = generate(graph, target, annotate, compact)
    try:
        isa.verify(program, target.isa_resources())
    except isa.IsaError as err:  # a compiler bug, not a user error: say so plainly
        raise CompilerError(f"internal error: generated program fails verification: {err}") \
            from None
    return Compiled(program, graph, time.perf_counter() - start)
