"""One kernel compiled and simulated, the way an architect checks one unit."""
from __future__ import annotations

import numpy as np

from compiler.ir.ops import OpKind
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


def kernel_own_seconds(result: dict, metadata: dict) -> float:
    """Seconds from the first instruction of the kernel's own ops to the program's end, in s.

    `result` is simulate_program's record of a compiler.kernels graph, `metadata` its
    program's. A timing of one library call on operands already in device memory (CUDA events
    around back-to-back torch.matmul calls) sees only the kernel; the input gathers that put
    its operands in memory here (ops of kind `embedding`) come before it and are left out.
    Under a `runtime.stack` the kernel waits for every earlier kernel (the kernel barrier), so
    this is exactly the kernel's time; under no stack its loads may start under the gather's."""
    detail = result["_detail"]
    own_ops = [i for i, op in enumerate(metadata["ops"]) if op.get("kind") != OpKind.EMBEDDING]
    own = np.isin(detail["arrays"].op_index, own_ops)
    if not own.any():
        return float(result["seconds"])
    return float(detail["end"].max() - detail["start"][own].min())
