"""The two halves of a decoder layer: attention (MHA / GQA / MLA) and the MLP (dense / MoE)."""
from __future__ import annotations

from compiler.ir.ops import OpKind


def attention(b, i: int, h: str) -> str:
    """Returns the name of the attention output (tokens x hidden)."""
    if b.m.mla is not None:
        return _mla(b, i, h)
    m = b.m
    nh, nkv, hd = m.num_heads, m.num_kv_heads, m.head_dim
    q = b.linear(f"L{i}.q_proj", h, m.hidden_size, nh * hd, i, "q_proj", bias=m.qkv_bias)
    k = b.linear(f"L{i}.k_proj", h, m.hidden_size, nkv * hd, i, "k_proj", bias=m.qkv_bias)
    v = b.linear(f"L{i}.v_proj", h, m.hidden_size, nkv * hd, i, "v_proj", bias=m.qkv_bias)
    if m.position == "rope":
        rotary = round(hd * m.rotary_fraction)
        q = b.add(f"L{i}.q_rope", OpKind.ROPE, (q,), b.specs[q].shape, layer=i,
                  rotary_dims=rotary, heads=nh, theta=m.rope_theta)
        k = b.add(f"L{i}.k_rope", OpKind.ROPE, (k,), b.specs[k].shape, layer=i,
                  rotary_dims=rotary, heads=nkv, theta=m.rope_theta)
    total = b.context + b.q_len
    cache = (b.batch, nkv, total, hd)
    w = b.add(f"L{i}.kv_write", OpKind.KV_WRITE, (k, v), (b.tokens, 2 * nkv * hd), layer=i,
              out_dtype=b.kv_dtype, kv_heads=nkv, head_dim=hd)
    common = dict(layer=i, batch=b.batch, heads=nh, kv_heads=nkv, q_len=b.q_len,
                  context=b.context, causal=True)
    s = b.add(f"L{i}.attn_score", OpKind.ATTN_SCORE, (q, w), (b.tokens * nh, total), kv=cache,
              head_dim=hd, **common)
    p = b.add(f"L{i}.softmax", OpKind.SOFTMAX, (s,), b.specs[s].shape, layer=i)
    c = b.add(f"L{i}.attn_context", OpKind.ATTN_CONTEXT, (p, w), (b.tokens, nh * hd), kv=cache,
              head_dim=hd, **common)
    return b.linear(f"L{i}.o_proj", c, nh * hd, m.hidden_size, i, "o_proj", bias=m.out_bias)


def _mla(b, i: int, h: str) -> str:
    """DeepSeek-V2 latent attention in its absorbed (inference) form: the cache holds the
    kv_lora_rank latent plus the shared RoPE key; W_UK and W_UV are applied per head."""
    m, a = b.m, b.m.mla
    nh, rope, nope, vd, rank = m.num_heads, a.qk_rope_head_dim, a.qk_nope_head_dim, \
        a.v_head_dim, a.kv_lora_rank
    if a.q_lora_rank:
        qa = b.linear(f"L{i}.q_a_proj", h, m.hidden_size, a.q_lora_rank, i, "q_a_proj")
        qa = b.norm(f"L{i}.q_a_norm", qa, a.q_lora_rank, i)
        q = b.linear(f"L{i}.q_b_proj", qa, a.q_lora_rank, nh * (nope + rope), i, "q_b_proj")
    else:
        q = b.linear(f"L{i}.q_proj", h, m.hidden_size, nh * (nope + rope), i, "q_proj")
    q = b.add(f"L{i}.q_rope", OpKind.ROPE, (q,), b.specs[q].shape, layer=i, rotary_dims=rope,
              heads=nh, theta=m.rope_theta)
    kv = b.linear(f"L{i}.kv_a_proj", h, m.hidden_size, rank + rope, i, "kv_a_proj")
    kv = b.norm(f"L{i}.kv_a_norm", kv, rank, i)
    kv = b.add(f"L{i}.k_rope", OpKind.ROPE, (kv,), b.specs[kv].shape, layer=i, rotary_dims=rope,
               heads=1, theta=m.rope_theta)
    total = b.context + b.q_len
    w = b.add(f"L{i}.kv_write", OpKind.KV_WRITE, (kv,), (b.tokens, rank + rope), layer=i,
              out_dtype=b.kv_dtype, kv_heads=1, head_dim=rank + rope)
    qa = b.add(f"L{i}.q_absorb", OpKind.MATMUL, (q,), (b.tokens, nh * rank), weight=(nh, nope, rank),
               layer=i, role="q_absorb", rows=b.tokens, bias=False)
    common = dict(layer=i, batch=b.batch, heads=nh, kv_heads=1, q_len=b.q_len,
                  context=b.context, causal=True)
    s = b.add(f"L{i}.attn_score", OpKind.ATTN_SCORE, (qa, w), (b.tokens * nh, total),
              kv=(b.batch, 1, total, rank + rope), head_dim=rank + rope, **common)
    p = b.add(f"L{i}.softmax", OpKind.SOFTMAX, (s,), b.specs[s].shape, layer=i)
    # the context pass reuses the latent the score pass streamed (one read in fused kernels)
    c = b.add(f"L{i}.attn_context", OpKind.ATTN_CONTEXT, (p, w), (b.tokens, nh * rank),
              head_dim=rank, **common)
    o = b.add(f"L{i}.v_absorb", OpKind.MATMUL, (c,), (b.tokens, nh * vd), weight=(nh, rank, vd),
              layer=i, role="v_absorb", rows=b.tokens, bias=False)
    return b.linear(f"L{i}.o_proj", o, nh * vd, m.hidden_size, i, "o_proj")


def mlp(b, i: int, h: str) -> str:
    m = b.m
    moe = m.moe
    if moe is None or i < moe.first_dense_layers:
        width = moe.dense_intermediate if moe is not None else m.intermediate_size
        return _dense(b, i, h, width, "mlp")
    e, k, width = moe.num_experts, moe.experts_per_token, moe.expert_intermediate
    r = b.linear(f"L{i}.router", h, m.hidden_size, e, i, "router")
    sel = b.add(f"L{i}.topk", OpKind.MOE_ROUTER, (r,), (b.tokens, k), layer=i, top_k=k,
                experts=e)
    rows = b.tokens * k
    moe_attrs = dict(experts=e, top_k=k, route_tokens=b.tokens)

    def expert(name, src, kdim, n, role, srcs):
        return b.add(name, OpKind.MATMUL, srcs, (rows if n != m.hidden_size else b.tokens, n),
                     weight=(e, kdim, n), layer=i, role=role, rows=rows, bias=False,
                     inputs=tuple(b.specs[s] for s in srcs), **moe_attrs)

    g = expert(f"L{i}.expert_gate", h, m.hidden_size, width, "expert_gate", (h, sel))
    u = expert(f"L{i}.expert_up", h, m.hidden_size, width, "expert_up", (h, sel))
    g = b.add(f"L{i}.expert_act", OpKind.ACTIVATION, (g,), b.specs[g].shape, layer=i,
              fn=m.activation)
    gu = b.elementwise(f"L{i}.expert_mul", OpKind.MUL, g, u, i)
    out = expert(f"L{i}.expert_down", gu, width, m.hidden_size, "expert_down", (gu, sel))
    if moe.shared_experts:
        shared = _dense(b, i, h, moe.shared_experts * width, "shared")
        out = b.elementwise(f"L{i}.moe_add_shared", OpKind.ADD, out, shared, i)
    return out


def _dense(b, i, h, width, prefix) -> str:
    m = b.m
    if m.gated_mlp:
        g = b.linear(f"L{i}.{prefix}_gate", h, m.hidden_size, width, i, "gate_proj")
        u = b.linear(f"L{i}.{prefix}_up", h, m.hidden_size, width, i, "up_proj")
        g = b.add(f"L{i}.{prefix}_act", OpKind.ACTIVATION, (g,), b.specs[g].shape, layer=i,
                  fn=m.activation)
        x = b.elementwise(f"L{i}.{prefix}_mul", OpKind.MUL, g, u, i)
    else:
        x = b.linear(f"L{i}.{prefix}_fc1", h, m.hidden_size, width, i, "fc1", bias=m.out_bias)
        x = b.add(f"L{i}.{prefix}_act", OpKind.ACTIVATION, (x,), b.specs[x].shape, layer=i,
                  fn=m.activation)
    return b.linear(f"L{i}.{prefix}_down", x, width, m.hidden_size, i, "down_proj",
                    bias=m.out_bias)
