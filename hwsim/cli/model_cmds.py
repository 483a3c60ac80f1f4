"""`hwsim models`, `hwsim inspect MODEL`, `hwsim compile MODEL -t TARGET -o prog.hwx`."""
from __future__ import annotations

from hwsim import api
from hwsim.cli.listing_cache import cached_text, package_roots
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, si
from hwsim.cli.workload_args import add_workload_args, workload_fields


def register(commands) -> None:
    models = commands.add_parser("models", help="list the built-in model zoo")
    models.add_argument("--json", action="store_true")
    models.set_defaults(run=run_models)

    inspect = commands.add_parser("inspect", help="parameters, FLOPs and bytes per token, "
                                                  "KV cache per token")
    inspect.add_argument("model", help="a zoo name or a path to an HF config.json")
    inspect.add_argument("--json", action="store_true")
    inspect.add_argument("--batch", type=int, default=1, help="sequences (default 1)")
    inspect.add_argument("--seq", type=int, default=128,
                         help="prefill prompt length (default 128)")
    inspect.add_argument("--context", type=int, default=128,
                         help="decode context length (default 128)")
    inspect.add_argument("--kv-bits", type=int, default=16, dest="kv_bits",
                         help="KV-cache width in bits (default 16)")
    inspect.add_argument("--weight-bits", type=int, default=16, dest="weight_bits",
                         help="storage width for weight_bytes (e.g. 3 for eDKM, PAPERS.md B17; "
                              "default 16)")
    inspect.add_argument("--mla-rank", type=int, dest="mla_rank",
                         help="convert MHA / GQA to MLA with this latent rank (MHA2MLA, B1)")
    inspect.add_argument("--mla-rope-dims", type=int, default=64, dest="mla_rope_dims",
                         help="RoPE key dims of the converted MLA (default 64)")
    inspect.set_defaults(run=run_inspect)

    comp = commands.add_parser("compile", help="compile a model to a target's ISA program")
    comp.add_argument("model")
    comp.add_argument("-t", "--target", required=True)
    comp.add_argument("-o", "--output", required=True, help="the .hwx file to write")
    comp.add_argument("--asm", help="also write the assembly text here")
    comp.add_argument("--json", action="store_true", help="print the summary as JSON")
    comp.add_argument("--length-adaptive", type=int, metavar="MAX_LEN", dest="length_adaptive",
                      help="also report decode programs per length bucket vs per length up to "
                           "MAX_LEN (instruction storage and compile time)")
    add_workload_args(comp)
    add_target_overrides(comp)
    comp.set_defaults(run=run_compile)


def run_models(args) -> int:
    # the listing depends on the zoo, the compiler's front end and model spec, the API's
    # listing and this file's formatting only
    compiler, api_dir, cli = package_roots("compiler", "hwsim.api", "hwsim.cli")
    roots = [compiler / "frontend", compiler / "zoo", compiler / "model.py",
             api_dir / "listing.py", cli / "model_cmds.py", cli / "common.py"]
    emit(cached_text("models-json" if args.json else "models", roots,
                     lambda: models_text(args.json)))
    return 0


def models_text(as_json: bool) -> str:
    rows = api.models()
    if as_json:
        return dumps_json(rows)
    return format_table(["model", "family", "layers", "hidden", "from"],
                        [[r["name"], r["family"], r["layers"], r["hidden_size"], r["source"]]
                         for r in rows])


def run_inspect(args) -> int:
    report = api.inspect(args.model, batch=args.batch, seq=args.seq, context=args.context,
                         kv_bits=args.kv_bits, weight_bits=args.weight_bits,
                         mla_rank=args.mla_rank, mla_rope_dims=args.mla_rope_dims)
    if args.json:
        emit(dumps_json(report))
        return 0
    p = report["parameters"]
    emit(f"{report['model']} ({report['family']}, {report['attention']}, {report['layers']} "
         f"layers, hidden {report['hidden_size']})\n")
    emit(f"parameters: {p['total']:,} total, {p['active_per_token']:,} active per token\n")
    emit(f"KV cache: {report['kv_cache_bytes_per_token']:,} bytes per token at "
         f"{report['kv_bits']}-bit ({100 * report['kv_cache_fraction_of_mha_fp16']:.4g} % of "
         f"an fp16 MHA cache of the same width, "
         f"{100 * report['kv_cache_reduction_vs_mha_fp16']:.6g} % less); "
         f"{si(report['kv_cache_bytes'], 'B')} ({report['kv_cache_bytes'] / 2 ** 30:.4g} GiB) "
         f"for {args.batch} x {args.context} tokens\n")
    emit(f"weights: {si(report['weight_bytes'], 'B')} at {report['weight_bits']} bits "
         f"({report['weight_bytes'] / 2 ** 30:.4g} GiB)\n")
    for phase in ("prefill", "decode"):
        f = report[phase]
        emit(f"{phase}: {si(f['flops_per_token'], 'FLOP')} and {si(f['bytes_per_token'], 'B')} "
             f"per token ({f['arithmetic_intensity_flops_per_byte']:.3g} FLOP/B)\n")
    rows = [[k, v["ops"], si(v["flops_per_token"], "FLOP"), si(v["bytes_per_token"], "B")]
            for k, v in report["decode"]["by_op_kind"].items()]
    emit("decode per op kind:\n" + format_table(["op", "count", "FLOPs/token", "bytes/token"],
                                                rows))
    return 0


def run_compile(args) -> int:
    import isa
    program, summary = api.compile_summary(args.model, args.target, output=args.output,
                                           length_adaptive=args.length_adaptive,
                                           overrides=args.overrides, **workload_fields(args))
    isa.write(args.output, program)
    if args.asm:
        isa.write_atomic(args.asm, isa.disassemble(program).encode("utf-8"))
    if args.json:
        emit(dumps_json(summary))
        return 0
    counts = ", ".join(f"{q} {n}" for q, n in summary["instructions"].items() if n)
    emit(f"{args.output}: {len(program):,} instructions ({counts}), "
         f"{si(summary['instruction_bytes'], 'B')} of code, off-chip {si(summary['dram_bytes'], 'B')}"
         f" ({summary['quant']}); compiled in {summary['compile_seconds']:.2f} s\n")
    emit("buffers: " + ", ".join(f"{name} {si(b['used_bytes'], 'B')} of {si(b['size_bytes'], 'B')}"
                                 for name, b in summary["buffers"].items() if b["used_bytes"])
         + "\n")
    la = summary.get("length_adaptive")
    if la:
        emit(f"length-adaptive decode up to {la['max_len']} tokens: {la['adaptive_programs']} "
             f"bucket programs of {la['bucket_tokens']} tokens, {si(la['adaptive_instruction_bytes'], 'B')}"
             f" of instructions vs {si(la['naive_instruction_bytes'], 'B')} for one program per "
             f"length ({la['storage_reduction']:.0f}x less); compile time "
             f"{la['compile_time_reduction']:.0f}x less\n")
    return 0
