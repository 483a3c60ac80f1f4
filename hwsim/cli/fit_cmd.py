"""`hwsim fit MODEL -t TARGET [--batch B] [--context C] [workload] [--json]`: the largest batch
at a context and the longest context at a batch that fit, with the bytes by kind."""
from __future__ import annotations

from hwsim import api
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table
from hwsim.cli.workload_args import add_model_format_args


def register(commands) -> None:
    p = commands.add_parser("fit", help="largest batch at a context / longest context at a "
                                        "batch that fit the target's memory, bytes by kind")
    p.add_argument("model", help="a zoo name or a path to an HF config.json")
    p.add_argument("-t", "--target", required=True)
    p.add_argument("--batch", type=int, default=None,
                   help="sequences; the longest context at this batch is reported")
    p.add_argument("--context", type=int, default=None,
                   help="KV positions per sequence (prompt + generated); the largest batch at "
                        "this context is reported (neither flag: batch 1)")
    p.add_argument("--gen", type=int, default=128,
                   help="generated tokens; the prompt is context - gen (default 128)")
    add_model_format_args(p, "as for simulate (default auto)")
    p.add_argument("--json", action="store_true")
    add_target_overrides(p)
    p.set_defaults(run=run_fit)


def run_fit(args) -> int:
    r = api.fit(args.model, args.target, batch=args.batch, context=args.context, gen=args.gen,
                quant=args.quant, kv_bits=args.kv_bits, sparsity=args.sparsity,
                layers=args.layers, group_size=args.group_size, overrides=args.overrides)
    if args.json:
        emit(dumps_json(r.to_dict()))
        return 0
    emit(f"{r.model} on {r.target} at {r.quant}, KV {r.kv_bits} bit: batch {r.batch} x context "
         f"{r.context_tokens} ({r.prompt_tokens} prompt + {r.gen_tokens} generated) fits "
         f"({r.limiting_phase} is the larger step)\n")
    emit(f"largest batch at context {r.context_tokens}: {r.max_batch}; longest context at "
         f"batch {r.batch}: {r.max_context_tokens}\n")
    rows = [[kind, f"{value / 1e9:.3f}"] for kind, value in (
        ("weights", r.weight_bytes), ("KV cache", r.kv_bytes),
        ("activations", r.activation_bytes), ("workspace", r.workspace_bytes),
        ("total (page-aligned)", r.total_bytes), (f"{r.memory} capacity", r.capacity_bytes))]
    emit(format_table(["bytes", "GB"], rows))
    return 0
