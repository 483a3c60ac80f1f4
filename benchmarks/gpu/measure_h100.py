"""Measure LLaMA2-7B inference and kernel throughput on a real NVIDIA GPU (run on the device).

Calibration data for the `h100` preset (docs/fidelity.md, "GPU calibration"). Imports only the
standard library, torch and transformers, and reads our zoo's HF config.json. Weights are
random (values do not change the speed of dense fp16/bf16 kernels).

  python3 benchmarks/gpu/measure_h100.py --out $OUT/h100_measured.json [--quick]

Sections (each in its own try, the JSON rewritten after each, so a failure or the deadline
keeps what was measured):
  kernels   bf16/fp16 GEMM TFLOP/s at LLM shapes, int8 torch._int_mm, HBM copy and read GB/s
  hf_eager  HF transformers LlamaForCausalLM, eager PyTorch (sdpa attention, dynamic KV cache):
            batch-1 decode at several contexts, prefill latency, batched decode
  graph     the same weights in a lean decoder (fused QKV and gate/up weights, static KV cache,
            the whole decode step captured in one CUDA graph): the same workloads
  lean_eager the lean decoder without the graph (one Python launch per kernel), one point
  compiled  that decoder under torch.compile (inductor fusions) inside the CUDA graph
  graph_prefill / compiled_prefill  prefill of the lean decoder captured in a CUDA graph
Timing: CUDA events, warm-ups first, median of repetitions. Board power sampled with NVML.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZOO_CONFIG = os.path.join(ROOT, "compiler", "zoo", "llama2-7b.json")
T0 = time.time()
SECTIONS = ("kernels", "hf", "graph", "lean_eager", "compiled", "graph_prefill",
            "compiled_prefill")


def log(*args):
    print(f"[{time.time() - T0:6.1f}s]", *args, flush=True)


def smi(fields):
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout.strip()
        return dict(zip(fields.split(","), [v.strip() for v in out.split(",")]))
    except Exception as exc:  # noqa: BLE001 - provenance only
        return {"error": repr(exc)}


class Power:
    """Samples board power (W) with NVML every 20 ms while active."""

    def __init__(self):
        self.samples, self._stop, self._thread, self._h = [], threading.Event(), None, None
        try:
            import pynvml
            pynvml.nvmlInit()
            self._nvml, self._h = pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception:  # noqa: BLE001 - power is optional
            self._h = None

    def __enter__(self):
        if self._h is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(self._nvml.nvmlDeviceGetPowerUsage(self._h) / 1000.0)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join()

    def mean_w(self):
        return round(statistics.mean(self.samples), 1) if self.samples else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny sizes (CPU smoke test)")
    ap.add_argument("--deadline-s", type=float, default=500.0)
    ap.add_argument("--config", default=ZOO_CONFIG)
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated subset of {','.join(SECTIONS)}")
    args = ap.parse_args()
    try:
        import torch
        import transformers
    except ImportError as exc:
        print(f"measure_h100: needs torch and transformers ({exc})")
        return 2
    import lean_llama as lean  # timers, kernels and the lean decoder, beside this file

    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    dtype = torch.bfloat16 if cuda else torch.float32
    result = {
        "what": "LLaMA2-7B (compiler/zoo/llama2-7b.json, random weights) and kernel throughput",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "device_name": torch.cuda.get_device_name(0) if cuda else platform.processor(),
        "torch_version": torch.__version__, "transformers_version": transformers.__version__,
        "cuda_version": torch.version.cuda, "python_version": platform.python_version(),
        "dtype": str(dtype).replace("torch.", ""),
        "timing": "CUDA events; warm-ups first; medians of repetitions",
        "nvidia_smi_before": smi("name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,"
                                 "clocks.max.mem,power.limit,memory.total") if cuda else {},
    }
    if cuda:
        p = torch.cuda.get_device_properties(0)
        result["sm_count"] = p.multi_processor_count
        result["memory_bytes"] = p.total_memory
        torch.backends.cuda.matmul.allow_tf32 = True

    def save():
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1, sort_keys=True)
            fh.write("\n")

    def left():
        return args.deadline_s - (time.time() - T0)

    want = set(args.sections.split(","))
    result["sections"] = sorted(want)
    timer = lean.Timer(torch, dev)
    quick = args.quick
    contexts = [32, 64] if quick else [128, 512, 1024, 2048]
    prompts = [16, 32] if quick else [128, 512, 2048]
    batches = [1, 4] if quick else [1, 8, 32, 64]
    batch_context = 32 if quick else 512
    steps = 4 if quick else 32

    def attempt(name, fn):
        """Run one measurement; record its error instead of stopping the script."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            result.setdefault("errors", {})[name] = repr(exc)[:1500]
            log("error", name, repr(exc)[:300])
        save()

    if "kernels" in want:
        log("kernels")
        attempt("kernels", lambda: result.update(kernels=lean.kernels(torch, timer, dev, quick)))

    # ---- model -------------------------------------------------------------------------------
    with open(args.config) as fh:
        cfg_dict = json.load(fh)
    if quick:
        cfg_dict.update(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=4, vocab_size=256)
    config = transformers.LlamaConfig(**{k: v for k, v in cfg_dict.items()
                                         if not k.startswith("_")})
    config._attn_implementation = "sdpa"
    log("building model")
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    with torch.device(dev):
        model = transformers.LlamaForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    model.eval()
    with torch.no_grad():
        for prm in model.parameters():
            prm.normal_(0.0, 0.02)
    n_params = sum(prm.numel() for prm in model.parameters())
    result["model"] = {"config": os.path.relpath(args.config, ROOT), "params": n_params,
                       "weight_bytes": n_params * (2 if cuda else 4),
                       "attn_implementation": getattr(config, "_attn_implementation", None)}
    log(f"model: {n_params / 1e9:.2f} B params")
    save()

    def decode_points(section, runner, points, step_count, batched=False):
        """Batch-1 decode at each context in points, or (batched) each batch in points."""
        rows = result.setdefault(section, {}).setdefault(
            "batched_decode" if batched else "decode", [])
        for b, c in ([(b, batch_context) for b in points] if batched
                     else [(1, c) for c in points]):
            if left() < 45:
                result.setdefault("errors", {})[f"{section}_{b}x{c}"] = "skipped: deadline"
                continue
            with Power() as pw:
                ms = runner(b, c, step_count)
            row = lean.decode_row(b, c, step_count, ms)
            row["board_power_w"] = pw.mean_w()
            rows.append(row)
            log(section, row)
            save()

    def prefill_points(section, runner, **kw):
        rows = result.setdefault(section, {}).setdefault("prefill", [])
        for s in prompts:
            ms = runner(s, timer, **kw)
            rows.append({"batch": 1, "seq": s, "ms": ms, "tokens_per_s": round(s / ms * 1e3, 1)})
            log(section, "prefill", rows[-1])
            save()

    if "hf" in want:
        hf = lean.HfRunner(torch, model, dev)
        result["hf_eager"] = {"what": "HF LlamaForCausalLM, eager PyTorch, sdpa, dynamic cache"}
        run_hf = lambda b, c, n: hf.decode_ms(b, c, n, timer)  # noqa: E731
        attempt("hf_decode", lambda: decode_points("hf_eager", run_hf, contexts, steps))
        attempt("hf_prefill", lambda: prefill_points("hf_eager", hf.prefill_ms))
        attempt("hf_batched", lambda: decode_points("hf_eager", run_hf, batches, steps // 2,
                                                            True))
        del hf
        if cuda:
            torch.cuda.empty_cache()

    fast = lean.LeanLlama(torch, model, config, dev)
    what = ("lean decoder: fused QKV and gate/up weights, static KV cache, sdpa; the whole "
            "decode step (argmax included) replayed as one CUDA graph")

    def lean_run(graph, compiled):  # noqa: E306
        return lambda b, c, n: fast.decode_ms(b, c, n, timer, use_graph=graph and cuda,
                                              compiled=compiled)
    if "graph" in want:
        result["graph"] = {"what": what}
        attempt("graph_decode", lambda: decode_points("graph", lean_run(True, False),
                                                      contexts, steps))
        attempt("graph_batched", lambda: decode_points("graph", lean_run(True, False),
                                                       batches, steps, True))
    if "lean_eager" in want:
        result["lean_eager"] = {"what": "the lean decoder, eager (one Python launch per "
                                        "kernel, no CUDA graph); prefill not graphed"}
        attempt("lean_eager_decode", lambda: decode_points(
            "lean_eager", lean_run(False, False), contexts[1:2], steps))
        attempt("lean_eager_prefill", lambda: prefill_points("lean_eager", fast.prefill_ms))
    if "compiled" in want:
        dyn = torch._dynamo.config  # one static-shape compile per point: raise the limit
        for knob in ("recompile_limit", "cache_size_limit", "accumulated_recompile_limit"):
            if hasattr(dyn, knob):
                setattr(dyn, knob, 64)
        result["compiled"] = {"what": what + ", under torch.compile (inductor, default mode, "
                                             "static shapes: one compile per point)"}
        attempt("compiled_decode", lambda: decode_points("compiled", lean_run(True, True),
                                                         contexts, steps))
    if "graph_prefill" in want:
        result.setdefault("graph", {"what": what})
        attempt("graph_prefill", lambda: prefill_points("graph", fast.prefill_ms,
                                                        use_graph=cuda))
    if "compiled" in want:
        attempt("compiled_batched", lambda: decode_points(
            "compiled", lean_run(True, True), [b for b in batches if b > 1], steps, True))
    if "compiled_prefill" in want and left() > 120:
        result.setdefault("compiled", {"what": what + ", under torch.compile"})
        attempt("compiled_prefill", lambda: prefill_points("compiled", fast.prefill_ms,
                                                           use_graph=cuda, compiled=True))
    if cuda:
        result["nvidia_smi_after"] = smi("clocks.sm,clocks.mem,power.draw,temperature.gpu")
    result["elapsed_s"] = round(time.time() - T0, 1)
    save()
    log("done", args.out)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
