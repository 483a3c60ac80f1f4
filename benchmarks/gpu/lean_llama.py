"""Helpers for measure_h100.py: a CUDA-event timer, kernel benchmarks, the HF eager runner and a
lean LLaMA decoder (fused weights, static KV cache, one CUDA graph per decode step).

torch is passed in (not imported at module level) so that importing this file never needs it.
"""
from __future__ import annotations

import statistics
import time


def decode_row(batch, context, steps, ms):
    return {"batch": batch, "context": context, "steps": steps, "ms_per_step": ms,
            "tokens_per_s": round(batch * 1e3 / ms, 1)}


class Timer:
    def __init__(self, torch, dev):
        self.torch, self.cuda = torch, dev == "cuda"

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def ms(self, fn, reps=5, warm=2, inner=1):
        """Median over `reps` of the mean time of `inner` back-to-back calls, in ms."""
        for _ in range(warm):
            fn()
        self.sync()
        times = []
        for _ in range(reps):
            if self.cuda:
                e0 = self.torch.cuda.Event(enable_timing=True)
                e1 = self.torch.cuda.Event(enable_timing=True)
                e0.record()
                for _ in range(inner):
                    fn()
                e1.record()
                e1.synchronize()
                times.append(e0.elapsed_time(e1) / inner)
            else:
                t = time.perf_counter()
                for _ in range(inner):
                    fn()
                times.append((time.perf_counter() - t) * 1e3 / inner)
        return round(statistics.median(times), 5)


def kernels(torch, timer, dev, quick):
    """GEMM TFLOP/s (x @ W^T, W stored n x k as nn.Linear does) and HBM bandwidth. Weights
    smaller than 256 MB are rotated among copies so that repeated calls do not hit in L2."""
    out = {"gemm": [], "int8_gemm": [], "fp8_gemm": [], "hbm": {}}
    shapes = [(1, 64, 64), (16, 128, 256)] if quick else [
        (1, 4096, 4096), (1, 4096, 11008), (16, 4096, 4096), (128, 4096, 11008),
        (512, 4096, 11008), (2048, 4096, 11008), (4096, 4096, 4096), (8192, 8192, 8192)]
    dtypes = [torch.float32] if not timer.cuda else [torch.bfloat16, torch.float16]

    def bench(m, k, n, make_a, make_w, op, elem_bytes):
        w_bytes = k * n * elem_bytes
        copies = 1 if quick else max(1, -(-256 * 2**20 // w_bytes))
        a = make_a(m, k)
        ws = [make_w(n, k) for _ in range(copies)]
        idx = [0]

        def fn():
            idx[0] = (idx[0] + 1) % copies
            return op(a, ws[idx[0]])
        flops = 2.0 * m * k * n
        inner = max(copies, min(400, int(3e11 / flops)))
        ms = timer.ms(fn, reps=5, warm=3, inner=inner)
        moved = (m * k + k * n) * elem_bytes + m * n * 2
        ws = None  # free the copies before the next shape
        return {"m": m, "k": k, "n": n, "ms": ms, "tflops": round(flops / ms / 1e9, 2),
                "gb_per_s": round(moved / ms / 1e6, 1), "weight_copies": copies}

    for dt in dtypes:
        for m, k, n in shapes:
            row = bench(m, k, n, lambda m_, k_: torch.randn(m_, k_, device=dev, dtype=dt),
                        lambda n_, k_: torch.randn(n_, k_, device=dev, dtype=dt),
                        lambda a, w: torch.nn.functional.linear(a, w),
                        torch.finfo(dt).bits // 8)
            row["dtype"] = str(dt).replace("torch.", "")
            out["gemm"].append(row)
    if timer.cuda:
        i8 = [(32, 4096, 4096), (128, 4096, 11008), (2048, 4096, 11008), (4096, 4096, 4096),
              (8192, 8192, 8192)]
        try:
            for m, k, n in i8:
                out["int8_gemm"].append(bench(
                    m, k, n, lambda m_, k_: torch.randint(-8, 8, (m_, k_), device=dev,
                                                          dtype=torch.int8),
                    lambda n_, k_: torch.randint(-8, 8, (n_, k_), device=dev, dtype=torch.int8),
                    lambda a, w: torch._int_mm(a, w.t()), 1))
        except Exception as exc:  # noqa: BLE001
            out["int8_error"] = repr(exc)[:500]
        try:
            one = torch.tensor(1.0, device=dev)
            f8 = torch.float8_e4m3fn
            for m, k, n in i8[1:]:
                out["fp8_gemm"].append(bench(
                    m, k, n, lambda m_, k_: torch.randn(m_, k_, device=dev).to(f8),
                    lambda n_, k_: torch.randn(n_, k_, device=dev).to(f8),
                    lambda a, w: torch._scaled_mm(a, w.t(), scale_a=one, scale_b=one,
                                                  out_dtype=torch.bfloat16), 1))
        except Exception as exc:  # noqa: BLE001
            out["fp8_error"] = repr(exc)[:500]
    n_bytes = 2**20 if quick else 2 * 2**30
    x = torch.empty(n_bytes // 2, device=dev, dtype=torch.bfloat16).normal_()
    y = torch.empty_like(x)
    ms = timer.ms(lambda: y.copy_(x), reps=7, warm=3, inner=5)
    out["hbm"]["copy_ms"] = ms
    out["hbm"]["copy_bytes_read_plus_written"] = 2 * n_bytes
    out["hbm"]["copy_gb_per_s"] = round(2 * n_bytes / ms / 1e6, 1)
    ms = timer.ms(lambda: x.sum(dtype=torch.float32), reps=7, warm=3, inner=5)
    out["hbm"]["read_sum_ms"] = ms
    out["hbm"]["read_sum_bytes"] = n_bytes
    out["hbm"]["read_sum_gb_per_s"] = round(n_bytes / ms / 1e6, 1)
    x = y = None
    return out


class HfRunner:
    """Hugging Face LlamaForCausalLM in eager PyTorch: one forward per token, dynamic cache."""

    def __init__(self, torch, model, dev):
        self.torch, self.model, self.dev = torch, model, dev
        self.vocab = model.config.vocab_size

    def _fwd(self, ids, **kw):
        try:
            return self.model(input_ids=ids, use_cache=True, logits_to_keep=1, **kw)
        except TypeError:
            return self.model(input_ids=ids, use_cache=True, **kw)

    def decode_ms(self, batch, context, steps, timer, reps=3):
        torch = self.torch
        ids = torch.randint(0, self.vocab, (batch, context), device=self.dev)
        times = []
        with torch.no_grad():
            for _ in range(reps):
                out = self._fwd(ids)
                pkv, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
                for _ in range(2):
                    out = self._fwd(tok, past_key_values=pkv)
                    pkv, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
                state = {"pkv": pkv, "tok": tok}

                def loop():
                    for _ in range(steps):
                        o = self._fwd(state["tok"], past_key_values=state["pkv"])
                        state["pkv"], state["tok"] = o.past_key_values, o.logits[:, -1:].argmax(-1)
                times.append(timer.ms(loop, reps=1, warm=0) / steps)
                out = pkv = state = None
        return round(statistics.median(times), 4)

    def prefill_ms(self, seq, timer):
        torch = self.torch
        ids = torch.randint(0, self.vocab, (1, seq), device=self.dev)
        with torch.no_grad():
            return timer.ms(lambda: self._fwd(ids), reps=5, warm=2)


class LeanLlama:
    """LLaMA decoder over the HF model's weights: fused QKV and gate/up matrices, a static KV
    cache written in place (index_copy_), sdpa attention over the cache with a position mask,
    so that one decode step is a fixed sequence of kernels that a CUDA graph can replay."""

    def __init__(self, torch, model, config, dev):
        self.torch, self.dev = torch, dev
        F = torch.nn.functional
        self.F = F
        self.H = config.num_attention_heads
        self.D = config.hidden_size // self.H
        assert config.num_key_value_heads == self.H, "lean decoder: multi-head attention only"
        self.eps = config.rms_norm_eps
        self.layers = []
        with torch.no_grad():
            for lyr in model.model.layers:
                a, m = lyr.self_attn, lyr.mlp
                self.layers.append((
                    torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
                    a.o_proj.weight, torch.cat([m.gate_proj.weight, m.up_proj.weight]),
                    m.down_proj.weight, lyr.input_layernorm.weight,
                    lyr.post_attention_layernorm.weight))
        self.emb, self.norm = model.model.embed_tokens.weight, model.model.norm.weight
        self.head = model.lm_head.weight
        self.dtype = self.emb.dtype
        rope = getattr(config, "rope_parameters", None) or {}
        theta = rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))
        max_pos = 8192
        inv = 1.0 / theta ** (torch.arange(0, self.D, 2, device=dev).float() / self.D)
        freqs = torch.outer(torch.arange(max_pos, device=dev).float(), inv)
        emb = torch.cat([freqs, freqs], -1)
        self.cos, self.sin = emb.cos().to(self.dtype), emb.sin().to(self.dtype)
        self._keep = None

    def _rms(self, x, w):
        xf = x.float()
        return (xf * self.torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(
            x.dtype) * w

    def _rope(self, x, cos, sin):
        h = x.shape[-1] // 2
        rot = self.torch.cat([-x[..., h:], x[..., :h]], -1)
        return x * cos + rot * sin

    def forward(self, tok, pos, caches, arange_l):
        """tok (B, T) token ids at positions pos (T,); caches [(k, v)] of (B, H, L, D)."""
        F, H, D = self.F, self.H, self.D
        b, t = tok.shape
        x = F.embedding(tok, self.emb)
        cos, sin = self.cos[pos].view(1, 1, t, D), self.sin[pos].view(1, 1, t, D)
        full = t > 1 and t == arange_l.shape[0]
        mask = None if full else (arange_l.view(1, -1) <= pos.view(-1, 1)).view(1, 1, t, -1)
        for (wqkv, wo, w13, w2, ln1, ln2), (kc, vc) in zip(self.layers, caches):
            q, k, v = F.linear(self._rms(x, ln1), wqkv).view(b, t, 3, H, D).unbind(2)
            q = self._rope(q.transpose(1, 2), cos, sin)
            k = self._rope(k.transpose(1, 2), cos, sin)
            v = v.transpose(1, 2)
            kc.index_copy_(2, pos, k)
            vc.index_copy_(2, pos, v)
            if full:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                o = F.scaled_dot_product_attention(q, kc, vc, attn_mask=mask)
            x = x + F.linear(o.transpose(1, 2).reshape(b, t, H * D), wo)
            g, u = F.linear(self._rms(x, ln2), w13).chunk(2, -1)
            x = x + F.linear(F.silu(g) * u, w2)
        return F.linear(self._rms(x[:, -1:], self.norm), self.head)

    def _caches(self, batch, length):
        z = self.torch.zeros
        return [(z(batch, self.H, length, self.D, device=self.dev, dtype=self.dtype),
                 z(batch, self.H, length, self.D, device=self.dev, dtype=self.dtype))
                for _ in self.layers]

    def _graphed(self, fn):
        """Capture fn (after three warm calls on a side stream) into a CUDA graph."""
        torch = self.torch
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                fn()
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
        self._keep = graph
        return graph.replay

    def _release(self):
        self._keep = None
        if self.dev == "cuda":
            self.torch.cuda.empty_cache()

    def decode_ms(self, batch, context, steps, timer, use_graph=True, compiled=False, reps=3):
        """ms per decode step at cached length `context` (KV values are zeros: speed only).
        The step reads the whole static cache (context + steps + 4 slots) under a mask."""
        torch = self.torch
        length = context + steps + 4
        caches = self._caches(batch, length)
        arange_l = torch.arange(length, device=self.dev)
        tok = torch.zeros(batch, 1, dtype=torch.long, device=self.dev)
        pos = torch.full((1,), context, dtype=torch.long, device=self.dev)
        fwd = torch.compile(self.forward, dynamic=False) if compiled else self.forward

        def step():
            logits = fwd(tok, pos, caches, arange_l)
            tok.copy_(logits.argmax(-1))
            pos.add_(1)
        with torch.no_grad():
            run = self._graphed(step) if use_graph else step
            times = []
            for _ in range(reps):
                pos.fill_(context)
                run()
                run()  # two warm steps: positions context .. context + steps + 1 < length
                times.append(timer.ms(lambda: [run() for _ in range(steps)], reps=1, warm=0)
                             / steps)
        caches = run = None
        self._release()
        return round(statistics.median(times), 4)

    def prefill_ms(self, seq, timer, use_graph=False, compiled=False):
        torch = self.torch
        caches = self._caches(1, seq)
        arange_l = torch.arange(seq, device=self.dev)
        ids = torch.randint(0, self.emb.shape[0], (1, seq), device=self.dev)
        fwd = torch.compile(self.forward, dynamic=False) if compiled else self.forward
        with torch.no_grad():
            def fn():
                return fwd(ids, arange_l, caches, arange_l)
            run = self._graphed(fn) if use_graph else fn
            ms = timer.ms(run, reps=5, warm=2)
        caches = run = None
        self._release()
        return ms
