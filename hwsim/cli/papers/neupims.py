"""Claims of the NeuPIMs paper (PAPERS.md C4-C6). Each Claim measures itself through Runner.

Setup (SETUPS.md section 2; NeuPIMs ASPLOS'24 section 7; casys-kaist/NeuPIMs configs): GPT3-7B,
batched decode at batch 256 and 512 (the sizes where the artifact interleaves sub-batches),
ShareGPT lengths (mean 80 input, 296 output tokens). A decode step at the mean context of a
request over its generation, 80 + 296 / 2 = 228 cached tokens, stands for the steady state of
continuous batching (decode time is affine in the context, so the mean step is the step at the
mean context). Each claim is the geometric mean over the two batch sizes.

One decoder layer's time is T(2 layers) - T(1 layer) (identical layers: the second layer's
program and start state repeat the first's; the difference also drops the embedding and LM
head, which T(1) keeps); a full model step is T(1) + (32 - 1) x layer. The artifact itself
simulates one layer (configs/model_configs/gpt3-7B.json: model_n_layer 1). Tensor parallelism
(TP 4 for GPT3-7B) divides every GEMM and every head's attention by the same factor, so the
ratios between systems are those of the full-width layer we simulate (all-reduce is not
modelled on either side).

Systems, all settings of two presets: NeuPIMs = `neupims`; NPU-only = `pim_attention=false`
(attention GEMVs on the NPU, the KV cache streamed over the memory bus); naive NPU+PIM =
`dual_row_buffers=false` and `sub_batch_interleaving=false` (blocked mode, one batch);
GPU-only = `a100` as it is on main.
"""
from __future__ import annotations

import math

from hwsim.cli.papers.claim import GAIN, RATIO, Claim, Measurement

PAPER = "NeuPIMs (ASPLOS'24)"
MODEL, MODEL_LAYERS = "gpt3-7b", 32
BATCHES = (256, 512)
INPUT_TOKENS, OUTPUT_TOKENS = 80, 296           # ShareGPT means (SETUPS.md section 2)
CONTEXT = INPUT_TOKENS + OUTPUT_TOKENS // 2     # mean cached tokens over a generation
NPU_ONLY = ("mechanisms.pim_attention=false",)
NAIVE = ("mechanisms.dual_row_buffers=false", "mechanisms.sub_batch_interleaving=false")
SYSTEMS = {"neupims": ("neupims", ()), "npu_only": ("neupims", NPU_ONLY),
           "naive": ("neupims", NAIVE), "gpu_only": ("a100", ())}


def step_seconds(runner, system: str, batch: int) -> dict:
    """One decode step of the full model on `system`: T(1) + (layers - 1) x (T(2) - T(1))."""
    target, overrides = SYSTEMS[system]
    one, two = (runner.simulate(MODEL, target, overrides, phase="decode", batch=batch,
                                context=CONTEXT, layers=n) for n in (1, 2))
    layer_s = two["seconds"] - one["seconds"]
    return {"layer_s": layer_s, "step_s": one["seconds"] + (MODEL_LAYERS - 1) * layer_s}


def throughput(runner, system: str, batch: int) -> float:
    """Tokens per second of a full-model decode step."""
    return batch / step_seconds(runner, system, batch)["step_s"]


def _geomean(values) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _ratio(runner, system: str, baseline: str, ablated_system: str) -> Measurement:
    """Throughput of `system` over `baseline`, geometric mean over BATCHES; `ablated_system`
    stands in for `system` with the credited mechanism off."""
    tps = {b: {s: throughput(runner, s, b) for s in SYSTEMS} for b in BATCHES}
    value = _geomean(tps[b][system] / tps[b][baseline] for b in BATCHES)
    ablated = _geomean(tps[b][ablated_system] / tps[b][baseline] for b in BATCHES)
    details = {"setup": {"model": MODEL, "layers": MODEL_LAYERS, "batches": list(BATCHES),
                         "context": CONTEXT, "phase": "decode"},
               "tokens_per_s": {str(b): tps[b] for b in BATCHES},
               "ablated_system": ablated_system}
    return Measurement(value=value, ablated=ablated, details=details)


def order(runner) -> dict:
    """Geometric-mean throughput of each system over BATCHES, relative to GPU-only (the
    paper's order 1 : 1.25 : 1.875 : 3 for GPU-only : NPU-only : naive : NeuPIMs)."""
    return {s: _geomean(throughput(runner, s, b) / throughput(runner, "gpu_only", b)
                        for b in BATCHES) for s in SYSTEMS}


MISSED = ("hwsim's NPU streams each sub-batch's weights again, so interleaving two half batches "
          "doubles the weight traffic; with the PIM attention of a 228-token context at about a "
          "sixth of a layer's GEMM time, the overlap it buys is smaller than the traffic it adds "
          "(docs/papers/neupims.md)")

CLAIMS = [
    Claim(id="C4", paper=PAPER, quote='vs "GPU-only" "3x ... throughput improvement"',
          paper_value=3.0, rule=RATIO,
          mechanism="mechanisms.pim_attention=false (NeuPIMs without PIM, vs the A100)",
          measure=lambda r: _ratio(r, "neupims", "gpu_only", "npu_only"),
          reason_if_missed="the A100 baseline streams weights and KV at 1.56 TB/s against "
                           "NeuPIMs' 1.02 TB/s; " + MISSED),
    Claim(id="C5", paper=PAPER, quote='vs "NPU-only" "2.4x"', paper_value=2.4, rule=RATIO,
          mechanism="mechanisms.pim_attention=false",
          measure=lambda r: _ratio(r, "neupims", "npu_only", "npu_only"),
          reason_if_missed=MISSED),
    Claim(id="C6", paper=PAPER, quote='vs "a naive NPU+PIM integrated acceleration" "1.6x"',
          paper_value=1.6, rule=GAIN,
          mechanism="mechanisms.dual_row_buffers=false mechanisms.sub_batch_interleaving=false",
          measure=lambda r: _ratio(r, "neupims", "naive", "naive"),
          reason_if_missed=MISSED),
]
