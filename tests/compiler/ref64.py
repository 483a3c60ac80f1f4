"""An independent float64 decoder written from the model math, to check compiler.reference.

It shares only the parameters (WeightStore, by op name) and the past KV cache (KVCache) with
the code under test; layouts, RoPE (complex rotation), attention (per-head loops, MLA in its
un-absorbed form) and MoE routing (per token) are written out again here.
"""
import math

import numpy as np

_erf = np.vectorize(math.erf)


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Decoder64:
    def __init__(self, model, store, cache, context):
        self.m, self.store, self.cache, self.context = model, store, cache, context

    def w(self, name):
        return np.asarray(self.store.weight(name), dtype=np.float64)

    def linear(self, x, name, bias=False):
        y = x @ self.w(name)
        return y + np.asarray(self.store.bias(name), dtype=np.float64) if bias else y

    def norm(self, x, name):
        g, eps = self.w(name), self.m.norm_eps
        if self.m.norm == "layernorm":
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / np.sqrt(var + eps) * g[0] + g[1]
        scale = 1.0 + g if self.m.family.startswith("gemma") else g
        return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * scale

    def act(self, x):
        fn = self.m.activation
        if fn == "silu":
            return x / (1.0 + np.exp(-x))
        if fn == "gelu":
            return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
        if fn == "gelu_tanh":
            return 0.5 * x * (1.0 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        return np.maximum(x, 0.0)

    def rope(self, x, rot, offset=0):
        """x (B, S, H, D): pairs (i, i + rot/2) of [offset, offset + rot) rotate as a complex
        number by position x theta^(-2i/rot)."""
        half = rot // 2
        pos = self.context + np.arange(x.shape[1])
        freq = self.m.rope_theta ** (-np.arange(half) * 2.0 / rot)
        z = x[..., offset:offset + half] + 1j * x[..., offset + half:offset + rot]
        z = z * np.exp(1j * pos[None, :, None, None] * freq)
        out = x.copy()
        out[..., offset:offset + half], out[..., offset + half:offset + rot] = z.real, z.imag
        return out

    def attend(self, scores_fn, values_fn, heads, b, s_len):
        """Per head: causal softmax over cache + new positions, then the weighted values."""
        out = []
        for h in range(heads):
            scores = scores_fn(h)                                  # (S, L)
            newest = self.context + np.arange(s_len)[:, None]     # last position row s sees
            allowed = np.arange(scores.shape[1])[None, :] <= newest
            out.append(softmax(np.where(allowed, scores, -np.inf)) @ values_fn(h))
        return np.stack(out, axis=1)                               # (S, H, Dv)

    def attention(self, i, h):
        m, (bsz, s_len, _) = self.m, h.shape
        nh, nkv, hd = m.num_heads, m.num_kv_heads, m.head_dim
        q = self.linear(h, f"L{i}.q_proj", m.qkv_bias).reshape(bsz, s_len, nh, hd)
        k = self.linear(h, f"L{i}.k_proj", m.qkv_bias).reshape(bsz, s_len, nkv, hd)
        v = self.linear(h, f"L{i}.v_proj", m.qkv_bias).reshape(bsz, s_len, nkv, hd)
        if m.position == "rope":
            rot = round(hd * m.rotary_fraction)
            q, k = self.rope(q, rot), self.rope(k, rot)
        pk, pv = (np.asarray(a, dtype=np.float64).transpose(0, 2, 1, 3)
                  for a in self.cache.past(f"L{i}.kv_write"))
        keys, vals = np.concatenate([pk, k], axis=1), np.concatenate([pv, v], axis=1)
        group = nh // nkv
        out = np.stack([self.attend(
            lambda hh: q[b, :, hh] @ keys[b, :, hh // group].T / math.sqrt(hd),
            lambda hh: vals[b, :, hh // group], nh, b, s_len) for b in range(bsz)])
        return self.linear(out.reshape(bsz, s_len, nh * hd), f"L{i}.o_proj", m.out_bias)

    def mla(self, i, h):
        m, a, (bsz, s_len, _) = self.m, self.m.mla, h.shape
        nh, nope, rp, rank = m.num_heads, a.qk_nope_head_dim, a.qk_rope_head_dim, a.kv_lora_rank
        if a.q_lora_rank:
            qa = self.norm(self.linear(h, f"L{i}.q_a_proj"), f"L{i}.q_a_norm")
            q = self.linear(qa, f"L{i}.q_b_proj")
        else:
            q = self.linear(h, f"L{i}.q_proj")
        q = q.reshape(bsz, s_len, nh, nope + rp)
        q_nope, q_pe = q[..., :nope], self.rope(q[..., nope:], rp)
        kv = self.linear(h, f"L{i}.kv_a_proj")
        c = self.norm(kv[..., :rank], f"L{i}.kv_a_norm")
        k_pe = self.rope(kv[..., None, rank:], rp)[:, :, 0]
        past = np.asarray(self.cache.past(f"L{i}.kv_write")[0], dtype=np.float64)[:, 0]
        c_all = np.concatenate([past[..., :rank], c], axis=1)         # (B, L, rank)
        kpe_all = np.concatenate([past[..., rank:], k_pe], axis=1)    # (B, L, rope)
        w_uk, w_uv = self.w(f"L{i}.q_absorb"), self.w(f"L{i}.v_absorb")
        out = np.stack([self.attend(
            lambda hh: (q_nope[b, :, hh] @ (c_all[b] @ w_uk[hh].T).T
                        + q_pe[b, :, hh] @ kpe_all[b].T) / math.sqrt(nope + rp),
            lambda hh: c_all[b] @ w_uv[hh], nh, b, s_len) for b in range(bsz)])
        return self.linear(out.reshape(bsz, s_len, -1), f"L{i}.o_proj")

    def dense(self, i, h, prefix):
        m = self.m
        if m.gated_mlp:
            gate = self.act(self.linear(h, f"L{i}.{prefix}_gate"))
            x = gate * self.linear(h, f"L{i}.{prefix}_up")
        else:
            x = self.act(self.linear(h, f"L{i}.{prefix}_fc1", m.out_bias))
        return self.linear(x, f"L{i}.{prefix}_down", m.out_bias)

    def mlp(self, i, h):
        moe = self.m.moe
        if moe is None or i < moe.first_dense_layers:
            return self.dense(i, h, "mlp")
        logits = self.linear(h, f"L{i}.router")
        wg, wu, wd = (self.w(f"L{i}.expert_{p}") for p in ("gate", "up", "down"))
        out = np.zeros_like(h)
        for idx in np.ndindex(h.shape[:-1]):
            order = sorted(range(moe.num_experts), key=lambda e: (-logits[idx][e], e))
            chosen = order[:moe.experts_per_token]
            weights = softmax(logits[idx][chosen])
            x = h[idx]
            for wt, e in zip(weights, chosen):
                out[idx] += wt * ((self.act(x @ wg[e]) * (x @ wu[e])) @ wd[e])
        if moe.shared_experts:
            out = out + self.dense(i, h, "shared")
        return out

    def forward(self, ids):
        """ids (B, S) -> logits (B, vocab) of each sequence's last token, float64."""
        m = self.m
        x = self.w("embed")[ids]
        if m.embedding_scale:
            x = x * math.sqrt(m.hidden_size)
        if m.position == "learned":
            x = x + self.w("pos_embed")[self.context + np.arange(ids.shape[1])]
        for i in range(m.num_layers):
            h = self.norm(x, f"L{i}.attn_norm")
            a = self.mla(i, h) if m.mla else self.attention(i, h)
            if m.parallel_block:
                x = x + a + self.mlp(i, h)
            else:
                x = x + a
                x = x + self.mlp(i, self.norm(x, f"L{i}.mlp_norm"))
        x = self.norm(x, "final_norm")[:, -1]
        return x @ (self.w("embed").T if m.tie_embeddings else self.w("lm_head"))
