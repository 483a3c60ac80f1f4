"""The API where compiler and simulator meet: compile a model (or read a .hwx) and simulate it,
including the generate phase (TTFT, and TPOT over the growing KV cache). Steps compile to
compact programs where the decoder layers repeat (compiler.codegen.compact): the simulator reads
them as the flat program, without the repeated instructions being built."""
from __future__ import annotations

from dataclasses import replace

import isa
from compiler.frontend import load_model
from compiler.ir.builder import check_attention_window
from compiler.ir.workload import Workload
from compiler.passes.quantize import stored_kv_bits
from compiler.passes.sparsify import check_sparsity
from compiler.pipeline import resolve_workload
from compiler.sub_batch import compile_step, interleaves
from hwsim.api.flows.memo import _STEPS, memoised, step_memo  # noqa: F401 (API, tests)
from hwsim.errors import HwsimError
from hwsim.program_meta import workload_of
from hwsim.simulate import simulate_program

TPOT_SAMPLES = 3  # decode steps simulated across the generation (context grows linearly)
COMPACT = True  # compile steps as compact programs (False: flat; the tests compare the two)


def step_tokens(workload: Workload) -> int:
    return workload.batch * (workload.seq if workload.phase == "prefill" else 1)


def simulate_model(model_name, workload: Workload, target) -> dict:
    """`model_name`: a zoo name or path for load_model, or a ModelSpec (e.g. one device's
    tensor-parallel share, compiler.tensor_parallel.device_share)."""
    model = load_model(model_name) if isinstance(model_name, str) else model_name
    workload = resolve_workload(workload, target)
    check_attention_window(model, workload)  # the mobile prefill path builds no graph,
    check_sparsity(workload.sparsity, target)  # so these two checks run here too
    header = {"model": model.name, "target": target.name, "phase": workload.phase,
              "batch": workload.batch, "seq": workload.seq, "context": workload.context,
              "quant": workload.quant,
              "kv_bits": stored_kv_bits(workload.quant, workload.kv_bits,  # as stored
                                        model.checkpoint_dtype)}
    if workload.phase == "prefill":
        return {**header, **_prefill(model, workload, target)}
    if workload.phase != "generate":
        return {**header, **simulate_step(model, workload, target)}
    return {**header, **_generate(model, workload, target)}


def _prefill(model, workload: Workload, target) -> dict:
    """The prefill of `workload.seq` tokens: the one model `--phase prefill` and generate's
    TTFT share. A mobile NPU runs it as llm.npu's subgraph schedule (mobile_prefill, whose NPU
    GEMMs are this compiler's kernels), every other family as one compiled program."""
    workload = replace(workload, phase="prefill")
    if target.family == "mobile_npu":
        from hwsim.api.flows import mobile_prefill  # read only for a mobile NPU's prefill
        return mobile_prefill.simulate(model, workload, target)
    return simulate_program(compile_step(model, workload, target, compact=COMPACT).program, target,
                            step_tokens(workload))


def simulate_step(model, workload: Workload, target) -> dict:
    """One compiled step (compiler.sub_batch.compile_step), simulated. Sub-batch interleaving
    overlaps one half batch's PIM attention with the other's NPU GEMMs but streams the weights
    once per half: where it applies, the step runs interleaved only when that makes the whole
    model's step faster (`interleaving_pays`); a --layers slice runs as the whole model would."""
    interleave = not (interleaves(target, workload) and workload.phase == "decode") or \
        interleaving_pays(model, workload, target)
    return _compiled_step(model, workload, target, interleave)


def _compiled_step(model, workload: Workload, target, interleave: bool) -> dict:
    """simulate_program of compile_step(...), through the innermost step_memo() if any."""
    def run() -> dict:
        program = compile_step(model, workload, target, interleave=interleave,
                               compact=COMPACT).program
        return simulate_program(program, target, step_tokens(workload))
    return memoised(lambda: (repr(model), workload, target.fingerprint(), interleave), run)


_PAYS: dict = {}


def interleaving_pays(model, workload: Workload, target) -> bool:
    """Whether the whole model's decode step (all num_layers layers) is faster interleaved,
    each way extrapolated from one- and two-layer slices, T(1) + (layers - 1) x (T(2) - T(1))
    (the layers are identical; the first carries the pipeline's fill). Cached per model,
    workload (any --layers) and target."""
    key = (repr(model), replace(workload, layers=None), target.fingerprint())
    if key not in _PAYS:
        slices = (1, 2) if model.num_layers > 1 else (1,)

        def whole_model_s(interleave: bool) -> float:
            t = [_compiled_step(model, replace(workload, layers=n), target,
                                interleave)["seconds"] for n in slices]
            return t[0] + (model.num_layers - 1) * (t[-1] - t[0])
        _PAYS[key] = whole_model_s(True) < whole_model_s(False)
    return _PAYS[key]


def _generate(model, workload: Workload, target) -> dict:
    """TTFT = the prefill of `seq` tokens (_prefill, as `--phase prefill` reports it); TPOT =
    mean decode step over contexts seq .. seq + gen - 1, from TPOT_SAMPLES evenly spaced decode
    simulations (decode time is affine in the context: the weights are fixed, attention grows
    linearly), trapezoid-averaged, so it lies between the first and last sampled steps."""
    prefill = _prefill(model, workload, target)
    points = sorted({workload.seq + round(i * (workload.gen - 1) / max(1, TPOT_SAMPLES - 1))
                     for i in range(TPOT_SAMPLES)})
    steps = [simulate_step(model, replace(workload, phase="decode", context=c), target)
             for c in points]
    weights = _trapezoid_weights(points)
    tpot = sum(w * s["seconds"] for w, s in zip(weights, steps))
    tokens = workload.batch * workload.gen
    seconds = prefill["seconds"] + workload.gen * tpot
    breakdown = _energy(prefill["energy_breakdown_j"], steps, weights, workload.gen)
    energy = sum(breakdown.values()) if breakdown is not None else None
    last = steps[-1]
    return {**last, "seconds": seconds, "cycles": int(round(seconds / last["seconds"] *
                                                              last["cycles"])),
            "tokens": tokens, "tokens_per_s": tokens / seconds, "energy_j": energy,
            "joules_per_token": energy / tokens if energy else None,
            "tokens_per_joule": tokens / energy if energy else None,
            "energy_breakdown_j": breakdown, "ttft_s": prefill["seconds"], "tpot_s": tpot,
            "roofline_seconds": prefill["roofline_seconds"] + workload.gen * min(
                s["roofline_seconds"] for s in steps),
            "decode_contexts": points}


def _energy(prefill_j, steps, weights, gen: int):
    """The prefill's breakdown plus `gen` trapezoid-averaged decode steps', per component;
    None when the prefill's energy is not modelled (a mobile GPU prefill engine)."""
    if prefill_j is None:
        return None
    keys = sorted(set(prefill_j).union(*(s["energy_breakdown_j"] for s in steps)))
    return {k: prefill_j.get(k, 0.0) + gen * sum(
        w * s["energy_breakdown_j"].get(k, 0.0) for w, s in zip(weights, steps)) for k in keys}


def _trapezoid_weights(points: list[int]) -> list[float]:
    """Weights that average a quantity sampled at `points` over [points[0], points[-1]]."""
    if len(points) == 1:
        return [1.0]
    span = points[-1] - points[0]
    weights = [0.0] * len(points)
    for i in range(len(points) - 1):
        half = (points[i + 1] - points[i]) / (2 * span)
        weights[i] += half
        weights[i + 1] += half
    return weights


def simulate_hwx(path: str, target) -> dict:
    program = isa.read(path)
    meta = workload_of(program, path)
    tokens = meta["batch"] * (meta["seq"] if meta["phase"] == "prefill" else 1)
    header = {"model": program.metadata.get("model", "?"), "target": target.name, **meta}
    return {**header, **simulate_program(program, target, tokens)}
