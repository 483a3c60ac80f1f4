"""The workload flags DESIGN.md fixes (--phase --batch --seq --context --gen --quant --kv-bits
--sparsity --layers), shared by compile, simulate and roofline."""
from __future__ import annotations

WORKLOAD_FIELDS = ("phase", "batch", "seq", "context", "gen", "quant", "kv_bits", "sparsity",
                   "layers", "group_size")

QUANT_HELP = ("fp16 | w8a8 | w8a16 | w4a16 | w4a8 | mixed (FlightLLM per-layer weight widths; "
              "default auto: the target family's default)")


def add_workload_args(parser, phase: str = "decode") -> None:
    g = parser.add_argument_group("workload")
    g.add_argument("--phase", default=phase, choices=("prefill", "decode", "generate"),
                   help=f"step to simulate (default {phase})")
    g.add_argument("--batch", type=int, default=1, help="sequences per step (default 1)")
    g.add_argument("--seq", type=int, default=128,
                   help="prompt tokens per sequence (default 128)")
    g.add_argument("--context", type=int, default=128,
                   help="cached tokens before a decode step (default 128)")
    g.add_argument("--gen", type=int, default=128,
                   help="tokens generated, generate phase (default 128)")
    add_model_format_args(g)


def add_model_format_args(group, quant_help: str = QUANT_HELP) -> None:
    """--quant --kv-bits --sparsity --layers --group-size: how the model is stored and how much
    of it is built (the workload group above; `hwsim fit`)."""
    group.add_argument("--quant", default="auto", help=quant_help)
    group.add_argument("--kv-bits", type=int, default=16, dest="kv_bits",
                       help="KV-cache width in bits (default 16)")
    group.add_argument("--sparsity", default=None,
                       help="N:M (e.g. 2:4) or block (default dense)")
    group.add_argument("--layers", type=int, default=None,
                       help="build only the first N layers (default all)")
    group.add_argument("--group-size", type=int, default=None, dest="group_size",
                       help="weights per scale group along K for w4a16 / w8a16 / w4a8 (default: "
                            "the checkpoint's, else 128)")


def workload_fields(args) -> dict:
    """The parsed workload flags as keyword arguments of hwsim.api.simulate / roofline."""
    return {name: getattr(args, name) for name in WORKLOAD_FIELDS}
