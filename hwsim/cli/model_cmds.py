"""`hwsim models`, `hwsim inspect MODEL`, `hwsim compile MODEL -t TARGET -o prog.hwx`."""
from __future__ import annotations

import isa
from compiler.analysis import inspect_model, mla_converted
from compiler.buffer_plan import buffer_use
from compiler.errors import CompilerError
from compiler.frontend import load_model, zoo_entry, zoo_names
from compiler.ir.workload import Workload
from compiler.length_adaptive import length_adaptive_report
from compiler.pipeline import compile_model
from hwsim.cli.common import add_target_overrides, dumps_json, emit, format_table, load_target, si
from hwsim.cli.workload_args import add_workload_args, workload_from_args


def register(commands) -> None:
    models = commands.add_parser("models", help="list the built-in model zoo")
    models.add_argument("--json", action="store_true")
    models.set_defaults(run=run_models)

    inspect = commands.add_parser("inspect", help="parameters, FLOPs and bytes per token, "
                                                  "KV cache per token")
    inspect.add_argument("model", help="a zoo name or a path to an HF config.json")
    inspect.add_argument("--json", action="store_true")
    inspect.add_argument("--batch", type=int, default=1)
    inspect.add_argument("--seq", type=int, default=128, help="prefill prompt length")
    inspect.add_argument("--context", type=int, default=128, help="decode context length")
    inspect.add_argument("--kv-bits", type=int, default=16, dest="kv_bits")
    inspect.add_argument("--weight-bits", type=int, default=16, dest="weight_bits",
                         help="storage width for weight_bytes (e.g. 3 for eDKM, PAPERS.md B17)")
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
    rows = []
    for name in zoo_names():
        spec, entry = load_model(name), zoo_entry(name)
        rows.append({"name": name, "family": spec.family, "layers": spec.num_layers,
                     "hidden_size": spec.hidden_size, "source": entry.get("hf_repo") or "written for hwsim (see compiler/zoo/index.yaml)",
                     "reconstructed": bool(entry.get("reconstructed"))})
    if args.json:
        emit(dumps_json(rows))
        return 0
    emit(format_table(["model", "family", "layers", "hidden", "from"],
                      [[r["name"], r["family"], r["layers"], r["hidden_size"], r["source"]]
                       for r in rows]))
    return 0


def run_inspect(args) -> int:
    workload = Workload(phase="decode", batch=args.batch, seq=args.seq, context=args.context,
                        kv_bits=args.kv_bits)
    if args.weight_bits not in range(1, 33):
        raise CompilerError(f"--weight-bits must be in 1..32, not {args.weight_bits}")
    model = load_model(args.model)
    if args.mla_rank is not None:
        model = mla_converted(model, args.mla_rank, args.mla_rope_dims)
    report = inspect_model(model, workload, args.weight_bits)
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
    target = load_target(args.target, args.overrides)
    model = load_model(args.model)
    compiled = compile_model(model, workload_from_args(args), target)
    program = compiled.program
    isa.write(args.output, program)
    if args.asm:
        isa.write_atomic(args.asm, isa.disassemble(program).encode("utf-8"))
    summary = {"model": model.name, "target": target.name, "output": args.output,
               "instructions": program.counts_per_queue(), "instruction_bytes":
               len(program) * isa.WORD_BYTES, "compile_seconds": round(compiled.seconds, 3),
               "dram_bytes": compiled.graph.meta["dram_bytes"],
               "quant": compiled.graph.workload.quant,
               "buffers": buffer_use(target, compiled.graph.meta["resident_peak_bytes"])}
    if args.length_adaptive:
        summary["length_adaptive"] = _length_adaptive(model, compiled.graph.workload, target,
                                                      args.length_adaptive)
    if args.json:
        emit(dumps_json(summary))
        return 0
    counts = ", ".join(f"{q} {n}" for q, n in summary["instructions"].items() if n)
    emit(f"{args.output}: {len(program):,} instructions ({counts}), "
         f"{si(summary['instruction_bytes'], 'B')} of code, off-chip {si(summary['dram_bytes'], 'B')}"
         f" ({summary['quant']}); compiled in {compiled.seconds:.2f} s\n")
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


def _length_adaptive(model, workload, target, max_len: int) -> dict:
    if max_len < 1:
        raise CompilerError(f"--length-adaptive must be >= 1, not {max_len}")
    return length_adaptive_report(model, workload, target, max_len).to_json()


__all__ = ["register", "CompilerError"]
