"""`hwsim kernel gemm|gemv|attention|softmax|layernorm --shape ... -t TARGET [--dtype] [--json]`:
compile and simulate one kernel, the way an architect checks one unit."""
from __future__ import annotations

from compiler.kernels import SHAPES, kernel_graph, parse_shape
from compiler.pipeline import compile_graph
from hwsim import report
from hwsim.cli.common import add_target_overrides, emit, load_target
from hwsim.simulate import simulate_program


def register(commands) -> None:
    k = commands.add_parser("kernel", help="compile and simulate a single kernel")
    k.add_argument("kind", choices=sorted(SHAPES))
    k.add_argument("--shape", required=True,
                   help="; ".join(f"{name}: {dims}" for name, dims in SHAPES.items()))
    k.add_argument("-t", "--target", required=True)
    k.add_argument("--dtype", default="int8", choices=("int8", "fp16"))
    k.add_argument("--json", action="store_true")
    add_target_overrides(k)
    k.set_defaults(run=run_kernel)


def kernel_result(kind: str, shape_text: str, target, dtype: str) -> dict:
    shape = parse_shape(kind, shape_text)
    compiled = compile_graph(kernel_graph(kind, shape, dtype), target)
    result = simulate_program(compiled.program, target, 1)
    kernel_ops = [op for op in compiled.program.metadata["ops"]]
    result.update(model=f"kernel {kind} {shape_text}", target=target.name, phase="kernel",
                  batch=1, seq=0, context=0, quant=dtype, kernel=kind, shape=list(shape),
                  flops=sum(op["flops"] for op in kernel_ops))
    return result


def run_kernel(args) -> int:
    target = load_target(args.target, args.overrides)
    result = kernel_result(args.kind, args.shape, target, args.dtype)
    emit(report.to_json(result) if args.json else report.table(result))
    return 0
