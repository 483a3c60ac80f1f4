"""Programs the RTL core co-simulates, compiled here (the CLI / API layer is where compiler
and simulator meet; rtl_models receives finished programs)."""
from __future__ import annotations

import isa
from compiler.kernels import kernel_graph
from compiler.pipeline import compile_graph


def compile_gemm(shape: tuple[int, int, int], target) -> isa.Program:
    """An int8 GEMM kernel compiled the way `hwsim kernel gemm` does, with annotations."""
    return compile_graph(kernel_graph("gemm", tuple(shape), "int8"), target,
                         annotate=True).program
