"""The public functions of hwsim.api. Each takes names, paths or loaded objects, returns a record
or a plain mapping, and raises HwsimError with the one-line message the CLI prints.

The compiler and the simulator are imported inside the functions, so `import hwsim` and the
command line's `--help` stay fast (numba loads only when a simulation runs)."""
from __future__ import annotations

import functools

from hwsim.api.gc_budget import fewer_gc_passes
from hwsim.api.result import Result, Roofline
from hwsim.errors import HwsimError

_WORKLOAD_DEFAULTS = {"phase": "decode", "batch": 1, "seq": 128, "context": 128, "gen": 128,
                      "quant": "auto", "kv_bits": 16, "sparsity": None, "layers": None,
                      "group_size": None}


def one_error(fn):
    """Errors of the layers below (IsaError, TargetError, CompilerError) become HwsimError with
    the same one-line text (the original stays as `__cause__`). The call runs with fewer
    garbage-collector passes (hwsim.api.gc_budget)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with fewer_gc_passes():
                return fn(*args, **kwargs)
        except HwsimError:
            raise
        except ValueError as err:
            if not is_layer_error(err):
                raise
            raise HwsimError(" ".join(str(err).split())) from err
    return wrapper


def is_layer_error(err: Exception) -> bool:
    from compiler.errors import CompilerError
    from isa import IsaError
    from targets import TargetError
    return isinstance(err, (IsaError, TargetError, CompilerError))


@one_error
def load_target(name_or_path, overrides=()):
    """A preset name or a YAML path (or a loaded Target, returned as is when there are no
    overrides) -> a validated `targets.Target`, with `dotted.key=value` overrides applied."""
    import os

    import targets
    if isinstance(name_or_path, str):
        if os.path.isdir(name_or_path):
            raise HwsimError(f"target file {name_or_path} is a directory, not a YAML file")
        return targets.load_target(name_or_path, list(overrides))
    if not overrides:
        return name_or_path
    changed = targets.apply_overrides(name_or_path.model_dump(mode="python"), list(overrides),
                                      name_or_path.name)
    return targets.validate(changed, f"{name_or_path.name} with --set")


@one_error
def load_model(name_or_path):
    """A zoo name or a path to an HF config.json (or a loaded ModelSpec) -> ModelSpec."""
    if not isinstance(name_or_path, str):
        return name_or_path
    from compiler.frontend import load_model as frontend_load
    return frontend_load(name_or_path)


@one_error
def workload(**fields):
    """The compiler's Workload from the workload fields (phase, batch, seq, context, gen, quant,
    kv_bits, sparsity, layers; defaults as the CLI's), checked as the CLI checks them."""
    from compiler.ir.workload import Workload
    unknown = sorted(set(fields) - set(_WORKLOAD_DEFAULTS))
    if unknown:
        raise HwsimError(f"unknown workload field(s) {', '.join(unknown)} (known: "
                         f"{', '.join(_WORKLOAD_DEFAULTS)})")
    return Workload(**{**_WORKLOAD_DEFAULTS, **fields})


def target_label(target, overrides=()) -> dict:
    """How results name a target: its own name, or `NAME+N` when N `--set` overrides changed it,
    or `NAME+<fingerprint>` when a file or object reuses a preset's name with other contents.
    Returns {"target": label, "target_fingerprint": hex} (+ "overrides" when any)."""
    import targets
    fingerprint = target.fingerprint().hex()
    label = target.name
    if overrides:
        label = f"{target.name}+{len(overrides)}"
    elif target.name in targets.preset_names() and \
            targets.load_target(target.name).fingerprint().hex() != fingerprint:
        label = f"{target.name}+{fingerprint[:8]}"
    out = {"target": label, "target_fingerprint": fingerprint[:16]}
    if overrides:
        out["overrides"] = list(overrides)
    return out


@one_error
def simulate(model, target, *, phase="decode", batch=1, seq=128, context=128, gen=128,
             quant="auto", kv_bits=16, sparsity=None, layers=None, group_size=None,
             overrides=()) -> Result:
    """Compile `model` for `target` and simulate one step (phase prefill / decode) or a whole
    generation (phase generate: `seq` prompt tokens, then `gen` new ones).

    model: zoo name, HF config.json path, ModelSpec, or a compiled `.hwx` path (then the
    workload comes from the program). target: preset name, YAML path or Target. batch:
    sequences per step; seq: prompt tokens; context: cached tokens before a decode step; gen:
    tokens generated; quant: fp16 | w8a8 | w4a16 | w4a8 | mixed | auto; kv_bits: KV-cache
    width in bits; sparsity: "2:4" or "block"; layers: build only the first N decoder layers;
    group_size: weights per scale group along K of w4a16 / w8a16 / w4a8 (default: the
    checkpoint's, else 128);
    overrides: `dotted.key=value` changes to the target. Returns a Result (seconds, joules,
    bytes; see docs/api.md)."""
    from hwsim.api.flows.run_model import simulate_hwx, simulate_model
    loaded = load_target(target, overrides)
    if isinstance(model, str) and model.endswith(".hwx"):
        raw = simulate_hwx(model, loaded)
    else:
        raw = simulate_model(load_model(model), workload(
            phase=phase, batch=batch, seq=seq, context=context, gen=gen, quant=quant,
            kv_bits=kv_bits, sparsity=sparsity, layers=layers, group_size=group_size), loaded)
    return Result.from_dict(_labelled(raw, loaded, overrides))


def _labelled(raw: dict, target, overrides) -> dict:
    label = target_label(target, overrides)
    if label["target"] == target.name and "overrides" not in label:
        return raw      # a preset (or a file with its own name) as it is: JSON as before
    return {**raw, **label}


@one_error
def roofline(model, target, *, phase="decode", batch=1, seq=128, context=128, gen=128,
             quant="auto", kv_bits=16, sparsity=None, layers=None, group_size=None,
             overrides=()) -> Roofline:
    """The roofline of the run simulate() makes (the same program bound as its
    roofline_seconds, in seconds), with per-op rows; arguments as for simulate()."""
    from hwsim.api.flows.roofline import roofline_report
    loaded = load_target(target, overrides)
    raw = roofline_report(load_model(model), workload(
        phase=phase, batch=batch, seq=seq, context=context, gen=gen, quant=quant,
        kv_bits=kv_bits, sparsity=sparsity, layers=layers, group_size=group_size), loaded)
    return Roofline.from_dict(_labelled(raw, loaded, overrides))


@one_error
def compile(model, target, *, phase="decode", batch=1, seq=128, context=128, gen=128,
            quant="auto", kv_bits=16, sparsity=None, layers=None, group_size=None,
             overrides=()):
    """Compile `model` for `target` -> the verified `isa.Program` (write it with
    `isa.write(path, program)`); arguments as for simulate()."""
    from compiler.pipeline import compile_model
    loaded = load_target(target, overrides)
    return compile_model(load_model(model), workload(
        phase=phase, batch=batch, seq=seq, context=context, gen=gen, quant=quant,
        kv_bits=kv_bits, sparsity=sparsity, layers=layers, group_size=group_size), loaded).program


@one_error
def fit(model, target, *, batch=None, context=None, gen=128, quant="auto", kv_bits=16,
        sparsity=None, layers=None, group_size=None, overrides=()):
    """The largest batch at `context` and the longest context at `batch` that fit the target's
    main memory, with the bytes by kind at (batch, context) -> a `Fit` record. A run holds
    `context` KV positions per sequence: a prompt of context - gen tokens prefilled over the
    whole batch, then gen decode steps (hwsim/api/flows/fit.py). Give either bound or both
    (neither: batch 1); a (batch, context) that does not fit raises HwsimError naming the bytes
    by kind and both bounds."""
    from hwsim.api.fit_record import Fit
    from hwsim.api.flows.fit import fit_report
    for name, value in (("batch", batch), ("context", context)):
        if value is not None and value < 1:
            raise HwsimError(f"--{name} must be >= 1, not {value}")
    loaded = load_target(target, overrides)
    fields = fit_report(load_model(model), workload(
        phase="prefill", gen=gen, quant=quant, kv_bits=kv_bits, sparsity=sparsity,
        layers=layers, group_size=group_size), loaded, batch, context)
    return Fit(target=target_label(loaded, overrides)["target"], **fields)


@one_error
def inspect(model, *, batch=1, seq=128, context=128, kv_bits=16, weight_bits=16,
            mla_rank=None, mla_rope_dims=64) -> dict:
    """Parameters, FLOPs and bytes per token (prefill over `seq`, decode over `context`), KV
    cache bytes per token at `kv_bits`, weight bytes at `weight_bits` (1..32); `mla_rank`
    converts MHA / GQA to MLA first. The mapping `hwsim inspect --json` prints."""
    from compiler.analysis import inspect_model, mla_converted
    from compiler.ir.workload import Workload
    if weight_bits not in range(1, 33):
        raise HwsimError(f"--weight-bits must be in 1..32, not {weight_bits}")
    spec = load_model(model)
    if mla_rank is not None:
        spec = mla_converted(spec, mla_rank, mla_rope_dims)
    return inspect_model(spec, Workload(phase="decode", batch=batch, seq=seq, context=context,
                                        kv_bits=kv_bits), weight_bits)


@one_error
def kernel(kind: str, shape: str, target, *, dtype="int8", overrides=()) -> Result:
    """One kernel (gemm M,K,N; gemv K,N; attention BATCH,HEADS,CONTEXT,HEAD_DIM; softmax and
    layernorm ROWS,COLS) compiled and simulated on `target`."""
    from hwsim.api.flows.kernel import kernel_result
    loaded = load_target(target, overrides)
    return Result.from_dict(_labelled(kernel_result(kind, shape, loaded, dtype), loaded,
                                      overrides))


@one_error
def check(model, target, *, seed=0, overrides=(), **workload_fields) -> dict:
    """Run the compiled step in functional mode and compare it with the compiler's integer
    reference, bit for bit: {"bit_exact", "compared", "instructions", "seed"}."""
    from hwsim.api.flows.functional_check import functional_check
    return functional_check(model, workload(**workload_fields),
                            load_target(target, overrides), seed)


def kernel_shapes() -> dict:
    """Kernel kind -> its shape arguments (what `hwsim kernel --shape` takes)."""
    from compiler.kernel_shapes import SHAPES
    return dict(SHAPES)


@one_error
def compile_summary(model, target, *, output: str = "", length_adaptive: int | None = None,
                    overrides=(), **workload_fields):
    """(program, summary) for `hwsim compile`: the summary holds instructions per queue,
    `instruction_bytes`, `dram_bytes`, `compile_seconds`, buffer use and, with
    `length_adaptive=MAX_LEN`, decode programs per length bucket vs per length."""
    from hwsim.api.flows.compile_summary import compile_with_summary
    program, summary, _ = compile_with_summary(load_model(model), workload(**workload_fields),
                                               load_target(target, overrides), output,
                                               length_adaptive)
    return program, summary


@one_error
def assemble(text: str, source: str = "<text>", target=None, overrides=()):
    """Assembly text -> a verified `isa.Program` bound to `target` (default: the program's
    `.target` line); a `.fingerprint` line must match the target's."""
    from hwsim.api.flows.assemble import assemble_for_target
    return assemble_for_target(text, source, target, overrides, load_target)


@one_error
def papers(only: str | None = None) -> list[dict]:
    """The published claims of PAPERS.md (all, or the comma-separated ids in `only`, e.g.
    "C1,C5"), each measured by live simulations: paper value, simulated value, tolerance,
    status and the ablation with the credited mechanism off."""
    from hwsim.api.papers.evaluate import papers as run
    return run(only)


def validate(only: str | None = None) -> dict:
    """The published measurements on real hardware (hwsim/validation/*.yaml; all rows, or the
    comma-separated ids in `only`), each simulated: {"rows": [measured, simulated, ratio,
    status, ...], "summary": median |error| and worst row, overall and per target}."""
    from hwsim.api.flows.validation import validate as run
    return run(only)


@one_error
def demo() -> tuple[Result, dict, list]:
    """The demo's run: (Result, {"instructions", "compile_seconds"}, [[op kind, ops, busy
    seconds], ...]) for LLaMA2-7B decode at context 512 on flightllm-u280."""
    from hwsim.api.flows.demo import DEFAULT_TARGET, demo_run
    raw, facts, kinds = demo_run(load_target(DEFAULT_TARGET))
    return Result.from_dict(raw), facts, kinds


@one_error
def explain(result: Result, target, overrides=()) -> dict:
    """For a Result and the target it ran on: `cycles_clock` (the clock `cycles` counts) and
    its Hz, achieved `dram_bytes_per_s` against `dram_peak_bytes_per_s`, `average_w`, the
    target's `units`, and `time_split_s`: the step time split into one-unit-alone, several-
    units-at-once and no-unit-busy pieces that add up to `seconds`."""
    from hwsim.api.flows.explain import explain as run
    return run(result, load_target(target, overrides))


def cosim(sim: str = "icarus", *, seed: int = 0, vectors: int = 1000) -> tuple[list, list]:
    """The RTL cross-checks on `sim` (icarus | verilator): (unit results, program results),
    each with `.passed` and `.as_dict()`. Needs cocotb and the simulator."""
    from hwsim.api.flows.cosim import cross_checks
    return cross_checks(sim, seed, vectors)


@one_error
def sweep(spec: str, output: str, *, workers: int | None = None, dask: str | None = None,
          resume: bool = False):
    """Run a sweep spec (docs/sweeps.md) into `output` (.csv or .parquet); returns the run's
    summary (points, ran, errors, skipped, dropped, rows, seconds)."""
    from hwsim.sweep import run_sweep
    return run_sweep(spec, output, check_model=load_model, workers=workers, dask=dask,
                     resume=resume)


@one_error
def pareto(results: str, x: str, y: str, *, minimize=(), maximize=()) -> dict:
    """The Pareto front of sweep results over columns x (minimised) and y (maximised) unless
    `minimize` / `maximize` name them: {"front": rows, "points", "skipped", "goals", ...}."""
    from hwsim.sweep import pareto as front
    return front(results, x, y, list(minimize), list(maximize))


def pareto_png(front: dict) -> bytes:
    """PNG of every point and the front (needs matplotlib)."""
    from hwsim.sweep.pareto import front_png
    return front_png(front)
