"""The workload flags DESIGN.md fixes (--phase --batch --seq --context --gen --quant --kv-bits
--sparsity --layers), shared by compile, simulate and roofline."""
from __future__ import annotations

from compiler.ir.workload import Workload


def add_workload_args(parser, phase: str = "decode") -> None:
    g = parser.add_argument_group("workload")
    g.add_argument("--phase", default=phase, choices=("prefill", "decode", "generate"))
    g.add_argument("--batch", type=int, default=1, help="sequences per step")
    g.add_argument("--seq", type=int, default=128, help="prompt tokens per sequence")
    g.add_argument("--context", type=int, default=128, help="cached tokens before a decode step")
    g.add_argument("--gen", type=int, default=128, help="tokens generated (generate phase)")
    g.add_argument("--quant", default="auto",
                   help="fp16 | w8a8 | w4a16 | w4a8 | mixed (FlightLLM per-layer weight widths; "
                        "auto: the target family's default)")
    g.add_argument("--kv-bits", type=int, default=16, dest="kv_bits")
    g.add_argument("--sparsity", default=None, help="N:M (e.g. 2:4) or block")
    g.add_argument("--layers", type=int, default=None, help="build only the first N layers")


def workload_from_args(args) -> Workload:
    return Workload(phase=args.phase, batch=args.batch, seq=args.seq, context=args.context,
                    gen=args.gen, quant=args.quant, kv_bits=args.kv_bits, sparsity=args.sparsity,
                    layers=args.layers)
