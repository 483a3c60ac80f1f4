"""Claims of the FlightLLM paper (PAPERS.md C1-C3). Each Claim measures itself through Runner.

Setup (SETUPS.md section 1; FlightLLM FPGA'24 section 6; artifact FlightLLM/flightllm_test_demo
profile/run.py): LLaMA2-7B, batch 1, generate with 128 prompt tokens and 512 new tokens (the
first of the paper's six [prefill, decode] pairs). FlightLLM runs its mixed-precision model
(`--quant mixed`: per-layer weight widths, INT8 activations); the GPUs run the paper's "opt"
baseline, vLLM + SmoothQuant W8A8 (`--quant w8a8`). Throughput is tokens / (TTFT + 512 TPOT),
energy efficiency tokens / joule over the same run, cost efficiency tokens/s per device price
(the presets' sourced `cost.price_usd`).

The ablation switches off what the paper credits for the decode-phase gain (section 4.2: the
always-on-chip decode scheme "with mixed-precision support"): mixed precision (uniform INT8
weights streamed) and always-on-chip decode (activations round-trip through HBM, a GEMV's
input loaded across HBM channels at 0.35 of one channel, as the artifact times it). The sparse
DSP chain is not in the ablation: the runs are dense (the artifact's 0.7-density q/k
projections are not an N:M pattern the chains support), so switching it off changes nothing.
"""
from __future__ import annotations

from hwsim.api.papers.claim import ABSOLUTE, GAIN, Claim, Measurement
from targets import load_target

PAPER = "FlightLLM (FPGA'24)"
MODEL = "llama2-7b"
SETUP = {"phase": "generate", "batch": 1, "seq": 128, "gen": 512}
FPGA_QUANT, GPU_QUANT = "mixed", "w8a8"
CREDITED_OFF = ("mechanisms.mixed_precision=false", "mechanisms.always_on_chip_decode=false")
# The paper's GPU "opt" stack ran eager PyTorch (vLLM 0.1.7: its engine has no CUDA-graph
# option, artifact profile/README.md log): every kernel pays host issue time. 26.3 us per
# kernel = the authors' own A100 HF-eager decode step, 22.1 ms (11,316.9 ms / 512 tokens,
# artifact README, flat over contexts 128-1536: host-bound), over the ~840 kernels an HF
# LLaMA2-7B decode step launches (benchmarks/gpu/h100_measured.json profile). Derived from
# the GPU-naive baseline, never from a claim's ratio. Kernels are counted as vLLM 0.1.x's model
# code launches them (kernel_fusion vllm-0.1, hwsim/timing/serving_stacks.py: 12 per layer,
# fused QKV, gate/up, rotary and paged attention), the stack the paper names for its baseline.
EAGER_HOST = ("units.sm.kernel_launch_s=26.3e-6", "units.sm.kernel_fusion=vllm-0.1")
# Issue 14: a GPU preset with a calibrated `runtime:` section runs the baseline's stack there
# instead of EAGER_HOST. Only a100-80gb has an eager stack calibrated on its own card (validation
# row a100-80gb-flightllm-hf-llama2-7b-fp16-decode-128-512, `use: calibration`: the artifact's
# HF GPU-naive step over HF's ~840 launches, 26.3 us of host issue per launch, each of vLLM 0.1's
# kernels one launch; its small-kernel bandwidth curve is
# carried over from the h100 preset, as its source says). vLLM 0.1.7 launches eagerly with
# vLLM's fused LLaMA kernels: the same two overrides as the table's validation row
# a100-80gb-flightllm-vllm017-llama2-7b-fp16-decode-128-512. C3's A100 is the artifact's
# machine, an 80 GB card (vLLM's "# GPU blocks: 7449" = 58 GiB of KV cache, validation table).
# v100s has no `runtime:` section (no V100 stack measurement), so C1/C2 keep EAGER_HOST.
RUNTIME_STACK = {"a100-80gb": ("runtime.stack=eager", "runtime.eager.kernel_fusion=vllm-0.1")}


def _fpga(runner, target: str, off: bool, layers: int | None) -> dict:
    return runner.simulate(MODEL, target, CREDITED_OFF if off else (), quant=FPGA_QUANT,
                           layers=layers, **SETUP)


def _gpu(runner, target: str, layers: int | None) -> dict:
    stack = RUNTIME_STACK.get(target, EAGER_HOST)
    return runner.simulate(MODEL, target, stack, quant=GPU_QUANT, layers=layers, **SETUP)


def _price_usd(target: str) -> float:
    return load_target(target).cost.price_usd


def _ratio(runner, fpga: str, gpu: str, metric, layers: int | None) -> Measurement:
    """metric(result, target) for the FPGA over the GPU, with the credited mechanisms on and
    off; details carry the figures behind the ratio."""
    on, off, base = (_fpga(runner, fpga, False, layers), _fpga(runner, fpga, True, layers),
                     _gpu(runner, gpu, layers))
    details = {"setup": {**SETUP, "model": MODEL, "layers": layers,
                         "fpga_quant": FPGA_QUANT, "gpu_quant": GPU_QUANT},
               **{f"{name}_{key}": float(r[key]) for name, r in ((fpga, on), (f"{fpga}_ablated", off),
                                                           (gpu, base))
                  for key in ("tokens_per_s", "tokens_per_joule", "ttft_s", "tpot_s")}}
    return Measurement(value=float(metric(on, fpga) / metric(base, gpu)),
                       ablated=float(metric(off, fpga) / metric(base, gpu)), details=details)


def energy_efficiency(runner, layers: int | None = None) -> Measurement:
    """C1: tokens per joule, flightllm-u280 over v100s."""
    return _ratio(runner, "flightllm-u280", "v100s", lambda r, _: r["tokens_per_joule"], layers)


def cost_efficiency(runner, layers: int | None = None) -> Measurement:
    """C2: tokens/s per dollar of device price, flightllm-u280 over v100s."""
    return _ratio(runner, "flightllm-u280", "v100s",
                  lambda r, t: r["tokens_per_s"] / _price_usd(t), layers)


def throughput(runner, layers: int | None = None) -> Measurement:
    """C3: tokens/s, flightllm-vhk158 over a100-80gb (the artifact's A100)."""
    return _ratio(runner, "flightllm-vhk158", "a100-80gb", lambda r, _: r["tokens_per_s"],
                  layers)


_WHY_GPU = ("the GPU baselines run eager vLLM 0.1.x: 26.3 us of host issue (from the authors' "
            "own HF-eager A100 step) per kernel, 387 kernels per decode step as vLLM's LLaMA "
            "code fuses them (12 per layer); the same model gives the authors' A100 vLLM FP16 "
            "run 94.0 token/s against the 89.4 they measured (1.05x optimistic), and V100S W8A8 "
            "96.5 token/s, host-bound like the A100; the paper's ratios imply a V100S-opt near "
            "46 token/s, but which stack its SmoothQuant W8A8 baseline ran on is not published")
_WHY_FPGA = ("the U280 now streams weights over 24 of 32 HBM channels at the artifact's 0.7 "
             "same-channel efficiency and decodes on the 1,024 MAC/cycle MV datapath: 62.9 "
             "token/s simulated against 55 measured, so its energy per token is still 12 % "
             "optimistic")

CLAIMS: list = [
    Claim(id="C1", paper=PAPER,
          quote="6.0x higher energy efficiency ... against commercial GPUs (e.g., NVIDIA V100S) "
                "on modern LLMs (e.g., LLaMA2-7B) using vLLM and SmoothQuant under the batch "
                "size of one",
          paper_value=6.0, rule=ABSOLUTE, mechanism=" ".join(CREDITED_OFF),
          measure=energy_efficiency,
          reason_if_missed=f"{_WHY_GPU}; {_WHY_FPGA}; docs/papers/flightllm.md"),
    Claim(id="C2", paper=PAPER, quote="1.8x better cost efficiency against commercial GPUs "
                                      "(e.g., NVIDIA V100S)",
          paper_value=1.8, rule=GAIN, mechanism=" ".join(CREDITED_OFF),
          measure=cost_efficiency,
          reason_if_missed=f"{_WHY_GPU}; {_WHY_FPGA}; docs/papers/flightllm.md"),
    Claim(id="C3", paper=PAPER, quote="beats NVIDIA A100 GPU with 1.2x higher throughput using "
                                      "the latest Versal VHK158 FPGA",
          paper_value=1.2, rule=GAIN, mechanism=" ".join(CREDITED_OFF),
          measure=throughput,
          reason_if_missed="the A100 (the artifact's 80 GB card) runs the a100-80gb preset's "
                           "calibrated eager stack with vLLM 0.1's kernels: 387 launches x 26.3 "
                           "us of host issue (the authors' HF-eager step over HF's ~840 "
                           "launches) = 10.2 ms per step, host-bound, 97.5 token/s in W8A8; the "
                           "VHK158 makes 104.5 token/s (the artifact's own profiler 103.5), so "
                           "1.07x, under the 1.12-1.28x band. The same stack gives the authors' "
                           "measured A100 vLLM FP16 run 96.6 token/s against 89.4 (validation "
                           "row a100-80gb-flightllm-vllm017-llama2-7b-fp16-decode-128-512, 1.08x)"
                           ": a W8A8 step cannot beat the host, and the paper's 1.2x is close to "
                           "104 / 89.4 = 1.16x against the measured FP16 run; "
                           "docs/papers/flightllm.md"),
]
