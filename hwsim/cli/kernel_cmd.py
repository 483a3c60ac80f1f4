"""`hwsim kernel gemm|gemv|attention|softmax|layernorm --shape ... -t TARGET [--dtype] [--json]`:
compile and simulate one kernel, the way an architect checks one unit."""
from __future__ import annotations

from hwsim import api
from hwsim.cli.common import add_target_overrides, dumps_json, emit


def register(commands) -> None:
    shapes = api.kernel_shapes()
    k = commands.add_parser("kernel", help="compile and simulate a single kernel")
    k.add_argument("kind", choices=sorted(shapes))
    k.add_argument("--shape", required=True,
                   help="; ".join(f"{name}: {dims}" for name, dims in shapes.items()))
    k.add_argument("-t", "--target", required=True)
    k.add_argument("--dtype", default="int8", choices=("int8", "fp16"),
                   help="operand type (default int8)")
    k.add_argument("--json", action="store_true")
    add_target_overrides(k)
    k.set_defaults(run=run_kernel)


def run_kernel(args) -> int:
    result = api.kernel(args.kind, args.shape, args.target, dtype=args.dtype,
                        overrides=args.overrides)
    if args.json:
        emit(dumps_json(result.to_dict()))
    else:
        from hwsim import report
        emit(report.table(result.to_dict()))
    return 0
