"""One kernel compiled and simulated, the way an architect checks one unit."""
from __future__ import annotations

from compiler.kernels import kernel_graph, parse_shape
from compiler.pipeline import compile_graph
from hwsim.simulate import simulate_program


def kernel_result(kind: str, shape_text: str, target, dtype: str) -> dict:
    """`kind` one of compiler.kernel_shapes.SHAPES, `shape_text` e.g. "64,4096,4096";
    simulate's dict with the kernel's `flops`."""
    shape = parse_shape(kind, shape_text)
    compiled = compile_graph(kernel_graph(kind, shape, dtype), target)
    result = simulate_program(compiled.program, target, 1)
    kernel_ops = [op for op in compiled.program.metadata["ops"]]
    result.update(model=f"kernel {kind} {shape_text}", target=target.name, phase="kernel",
                  batch=1, seq=0, context=0, quant=dtype, kernel=kind, shape=list(shape),
                  flops=sum(op["flops"] for op in kernel_ops))
    return result
