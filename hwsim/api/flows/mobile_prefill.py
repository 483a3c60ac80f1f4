"""Prefill on a phone SoC the way mllm-NPU (llm.npu, ASPLOS'25 §3) runs it, and its baselines.

The prompt is cut into fixed-size chunks (`mechanisms.chunk_tokens`; the last one padded, as a
static-shape graph must be) when `chunked_prefill` is on, else it is one chunk of its own
length. Every decoder layer of every chunk becomes subgraphs (blocks) placed by hardware
affinity, as the authors' code places them: one NPU graph per layer (the INT8 linears with the
norms, residual adds and activation between them) and one CPU block (RoPE and attention in
fp16). Attention of chunk i reads the K/V that chunks 0..i of the same layer wrote, so its
block waits for those chunks' QKV blocks (SETUPS.md §3: G(i, j) needs G(i, j-1) and
G(0..i-1, j-1)). With `outlier_extraction`, the layers that keep outlier handling
(`outlier_layer_fraction`) end their graph after the MLP and correct the down projection's
outlier channels on the CPU (fp16), where their next input norm also runs; without it the NPU
must quantize activations per group in every layer to stay accurate (mobile_costs). With
`out_of_order_scheduling` the blocks go to hwsim.timing.block_schedule's greedy scheduler,
otherwise they issue in order. `prefill_engine: cpu | gpu` runs every block on that processor
(the llama.cpp / MNN and TFLite / MLC-LLM baselines).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from compiler.ir.builder import build_graph
from compiler.ir.ops import OpKind, expected_experts_touched
from compiler.passes import quantize
from compiler.passes.tile import matrix_dims
from compiler.pipeline import resolve_workload
from hwsim.api.flows.memo import memoised
from hwsim.api.flows.mobile_costs import ZERO, Cost, SocCosts
from hwsim.errors import HwsimError
from hwsim.timing.block_schedule import Block, in_order, out_of_order

NORM_PASSES = {OpKind.RMSNORM: 2, OpKind.LAYERNORM: 3}
PRE_ROLES = {"q_proj", "k_proj", "v_proj", "q_a_proj", "q_b_proj", "kv_a_proj"}  # before attn
CPU_ROLES = {"q_absorb", "v_absorb"}       # MLA's per-head products inside the CPU attention
DOWN_ROLES = {"down_proj", "expert_down"}  # the linear the outlier shadow corrects
KV_CACHE_BYTES = 2                         # the authors' CPU K/V cache is fp16 (CPUKVCacheNPU)


@dataclass(frozen=True)
class Gemm:
    """`count` products of (m x k) @ (k x n): the experts a chunk touches, or MLA's heads."""
    m: int
    k: int
    n: int
    count: int = 1

    @property
    def macs(self) -> int:
        return self.count * self.m * self.k * self.n


@dataclass(frozen=True)
class LayerWork:
    """One decoder layer for a chunk of `q_len` tokens, read off the compiler's graph IR (the
    ops the instruction-level program compiles: MoE experts, MLA, GQA, biases of shapes)."""
    norm_ops: int                 # the input norm
    pre: tuple                    # Gemms before attention (Q/K/V or MLA's down/up projections)
    pre_ops: int                  # vector ops between them (MLA's latent norms)
    post: tuple                   # the O projection and the MLP (dense, router, experts)
    post_ops: int                 # residual adds, post-attention norm, activation, routing
    down: tuple                   # the MLP's down projections (outlier shadows correct these)
    cpu_gemms: tuple              # MLA's absorbed per-head products (fp16, with attention)
    heads: int
    q_len: int
    score_dim: int                # head width of Q K^T (MLA: latent + RoPE key)
    context_dim: int              # head width of P V (MLA: latent)
    rope_ops: int

    def attn_macs(self, total: int) -> int:
        """Q K^T and P V over `total` keys, the full chunk x context product the authors'
        masked matmul computes, plus MLA's absorbed products."""
        return self.heads * self.q_len * total * (self.score_dim + self.context_dim) + \
            sum(g.macs for g in self.cpu_gemms)

    def attn_ops(self, total: int) -> int:
        return 3 * self.heads * self.q_len * total + self.rope_ops   # softmax passes + RoPE


@dataclass(frozen=True)
class PrefillWork:
    layers: tuple                 # LayerWork per decoder layer
    embed_bytes_per_token: int    # one embedding row (gathered on the CPU with layer 0's norm)
    lm_head: Gemm                 # the prompt's last token's logits (CPU, after the last layer)
    lm_head_bytes: int
    final_norm_ops: int           # one row
    weight_bytes: int             # every stored parameter at the workload's quantization
    kv_bytes_per_token: int       # all layers, fp16


def prefill_work(model, workload, rows: int, target) -> PrefillWork:
    """The work of one `rows`-token chunk, from the quantized graph the compiler builds for it
    (compiler.ir.builder + quantize): one source of shapes for both tiers."""
    graph = quantize.run(build_graph(model, replace(workload, phase="prefill", seq=rows)),
                         target)
    ops = graph.ops()
    by_layer: dict[int, list] = {}
    for op in ops:
        if op.layer is not None:
            by_layer.setdefault(op.layer, []).append(op)
    top = {op.name: op for op in ops if op.layer is None}
    embed, head, final = top["embed"], top["lm_head"], top["final_norm"]
    return PrefillWork(
        layers=tuple(_layer(by_layer[i], rows) for i in sorted(by_layer)),
        embed_bytes_per_token=embed.weight.nbytes // embed.weight.shape[0],
        lm_head=Gemm(1, *head.weight.shape[-2:]), lm_head_bytes=head.weight.nbytes,
        final_norm_ops=NORM_PASSES[final.kind] * final.output.elements // rows,
        weight_bytes=sum(-(-op.weight.elements * op.weight.bits // 8) for op in ops
                         if op.weight is not None and not op.attr("tied")),
        kv_bytes_per_token=sum(KV_CACHE_BYTES * op.output.elements // rows for op in ops
                               if op.kind == OpKind.KV_WRITE))


def _gemm(op) -> Gemm:
    m, n, k, groups = matrix_dims(op)
    if op.attr("experts"):   # the experts a chunk's tokens touch, as the tiler counts them
        groups = math.ceil(expected_experts_touched(op.attr("experts"), op.attr("top_k"),
                                                    op.attr("route_tokens")) - 1e-9)
    return Gemm(m, k, n, groups)


def _layer(ops: list, rows: int) -> LayerWork:
    pre, post, down, cpu = [], [], [], []
    vec = {"norm": 0, "pre": 0, "post": 0}
    rope = 0
    attn = {}
    after_o = False
    for index, op in enumerate(ops):
        kind, role = op.kind, op.attr("role")
        if kind == OpKind.MATMUL:
            after_o = after_o or role == "o_proj"
            g = _gemm(op)
            (cpu if role in CPU_ROLES else pre if role in PRE_ROLES else post).append(g)
            if role in DOWN_ROLES:
                down.append(g)
        elif kind == OpKind.ROPE:
            rope += 2 * op.output.shape[0] * op.attr("heads") * op.attr("rotary_dims")
        elif kind in (OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
            attn[kind] = op
        elif kind not in (OpKind.KV_WRITE, OpKind.SOFTMAX):
            where = "norm" if index == 0 else "post" if after_o else "pre"
            vec[where] += NORM_PASSES.get(kind, 1) * op.output.elements
    score, context = attn[OpKind.ATTN_SCORE], attn[OpKind.ATTN_CONTEXT]
    return LayerWork(vec["norm"], tuple(pre), vec["pre"], tuple(post), vec["post"], tuple(down),
                     tuple(cpu), score.attr("heads"), score.attr("q_len"),
                     score.attr("head_dim"), context.attr("head_dim"), rope)


def _npu_linear(costs: SocCosts, gemms, per_group: bool) -> Cost:
    """One NPU graph execute plus its INT8 GEMMs (each expert / group its own kernel)."""
    cost = costs.npu_graph_call()
    for g in gemms:
        one = costs.npu_gemm(g.m, g.k, g.n)
        if per_group:
            one = one + costs.npu_per_group_extra(g.m, g.k, g.n)
        for _ in range(g.count):
            cost = cost + one
    return cost


def _shadow(costs: SocCosts, gemms, fraction: float) -> Cost:
    """Outlier channels of each linear's input, in fp16 on the CPU (their weight rows too)."""
    macs = sum(g.count * g.m * math.ceil(fraction * g.k) * g.n for g in gemms)
    weight_bytes = sum(2 * g.count * math.ceil(fraction * g.k) * g.n for g in gemms)
    return costs.cpu(macs, sum(g.count * g.m * g.n for g in gemms), "fp16", weight_bytes)


def _cpu_attention(costs: SocCosts, w: LayerWork, total: int) -> Cost:
    """RoPE, Q K^T, softmax and P V over `total` keys in fp16 (MLA: its absorbed products,
    whose per-head weights stream in fp16)."""
    weight_bytes = sum(2 * g.count * g.k * g.n for g in w.cpu_gemms)
    return costs.cpu(w.attn_macs(total), w.attn_ops(total), "fp16", weight_bytes)


def _lm_head(costs: SocCosts, work: PrefillWork) -> Cost:
    """The final norm and the LM head for the prompt's last token on the CPU (the authors' code
    runs them as a separate CPU net, qwen_npu_cpu_inter), weights at the quantization's width."""
    return costs.cpu(0, work.final_norm_ops, "fp16") + \
        costs.cpu(work.lm_head.macs, 0, "int8", work.lm_head_bytes)


def shadowed(layer: int, fraction: float) -> bool:
    """Whether `layer` keeps outlier handling when only `fraction` of the layers do (the paper
    prunes it from the least important ones): spread evenly, so any first n layers hold
    floor(n x fraction) shadowed ones."""
    return math.floor((layer + 1) * fraction + 1e-9) > math.floor(layer * fraction + 1e-9)


def npu_blocks(work: PrefillWork, rows: int, chunks: int, mech, costs: SocCosts) -> tuple:
    """Per chunk and layer, as the authors' chunk-pipeline Qwen prefill places them
    (UbiquitousLearning/mllm@11a2fb2a examples/main_qwen_npu.hpp): one NPU graph holds layer
    L-1's O projection, residual add, norm, MLP (activation and mul inside) and residual add,
    then layer L's input norm and Q/K/V; the CPU runs RoPE and attention over the fp16 K/V
    cache. Layer 0's input norm runs on the CPU with the embedding gather. A layer that keeps
    outlier handling ends its graph after its MLP: its down projection's outliers are
    corrected on the CPU (the shadow needs the graph's outputs) and the next layer's input
    norm runs there too before a new graph starts. The last chunk ends with the LM head."""
    blocks: list[Block] = []
    info: list[Cost] = []
    qkv_of: dict[tuple[int, int], int] = {}
    per_group = not mech.outlier_extraction

    def add(name, proc, cost, deps):
        blocks.append(Block(name, proc, cost.seconds, tuple(sorted(set(deps)))))
        info.append(cost)
        return len(blocks) - 1

    def graph(name, gemms, vector_ops, deps):
        cost = _npu_linear(costs, gemms, per_group)
        if vector_ops:
            cost = cost + costs.npu_vector(vector_ops, 1)
        return add(name, "npu", cost, deps)

    embed = costs.cpu(0, 0, "fp16", rows * work.embed_bytes_per_token)
    for i in range(chunks):
        prev, open_post = None, None   # open_post: layer L-1's O + MLP, joining L's graph
        for layer, w in enumerate(work.layers):
            tag = f"c{i}.L{layer}"
            deps = [] if prev is None else [prev]
            if open_post is not None:
                g = graph(f"{tag}.post_prev+qkv", open_post.post + w.pre,
                          open_post.post_ops + w.norm_ops + w.pre_ops, deps)
            else:
                norm = costs.cpu(0, w.norm_ops, "fp16")
                n1 = add(f"{tag}.norm1", "cpu", embed + norm if layer == 0 else norm, deps)
                g = graph(f"{tag}.qkv", w.pre, w.pre_ops, [n1])
            qkv_of[(i, layer)] = g
            attn = add(f"{tag}.attn", "cpu", _cpu_attention(costs, w, (i + 1) * rows),
                       [qkv_of[(j, layer)] for j in range(i + 1)])
            shadow = mech.outlier_extraction and shadowed(layer, mech.outlier_layer_fraction)
            if shadow or layer == len(work.layers) - 1:
                prev = graph(f"{tag}.post", w.post, w.post_ops, [attn])
                if shadow:
                    prev = add(f"{tag}.shadow", "cpu", _shadow(
                        costs, w.down, mech.outlier_channel_fraction), [prev])
                open_post = None
            else:
                prev, open_post = attn, w
    add("lm_head", "cpu", _lm_head(costs, work), [prev])
    return blocks, info


def single_processor_blocks(work: PrefillWork, rows: int, engine: str,
                            costs: SocCosts) -> tuple[list, list]:
    """Every block on the CPU (INT8 linears, llama.cpp / MNN) or the GPU (fp16, TFLite /
    MLC-LLM); the whole prompt is one pass, blocks in order, the LM head last."""
    blocks, info = [], []

    def run(macs, ops, dtype, cpu_bytes, gpu_bytes):
        return costs.cpu(macs, ops, dtype, cpu_bytes) if engine == "cpu" else \
            costs.gpu(macs, ops, gpu_bytes)

    for layer, w in enumerate(work.layers):
        cost = ZERO
        for g in w.pre + w.post:
            elements = g.count * g.k * g.n
            cost = cost + run(g.macs, 0, "int8", elements, 2 * elements)
        other_ops = w.norm_ops + w.pre_ops + w.post_ops + w.attn_ops(rows)
        absorb_bytes = sum(2 * g.count * g.k * g.n for g in w.cpu_gemms)
        cost = cost + run(w.attn_macs(rows), other_ops, "fp16", absorb_bytes, absorb_bytes)
        if layer == 0:
            embed_bytes = rows * work.embed_bytes_per_token
            cost = cost + run(0, 0, "fp16", embed_bytes, embed_bytes)
        blocks.append(Block(f"L{layer}", engine, cost.seconds, (layer - 1,) if layer else ()))
        info.append(cost)
    head = _lm_head(costs, work) if engine == "cpu" else costs.gpu(
        work.lm_head.macs, work.final_norm_ops, 2 * work.lm_head.k * work.lm_head.n)
    blocks.append(Block("lm_head", engine, head.seconds, (len(blocks) - 1,)))
    info.append(head)
    return blocks, info


def simulate(model, workload, target) -> dict:
    """Prefill of `workload.seq` tokens (batch 1) on a mobile_npu target; simulate's JSON.
    Refuses (HwsimError, one line) what this model does not cover and a model whose weights
    and K/V cache do not fit the phone's memory."""
    workload = resolve_workload(workload, target)
    _check_workload(workload)
    mech, costs = target.mechanisms, _costs(target)
    layers = min(workload.layers or model.num_layers, model.num_layers)
    seq, engine = workload.seq, mech.prefill_engine
    rows = mech.chunk_tokens if mech.chunked_prefill and engine == "npu" else seq
    chunks = math.ceil(seq / rows)
    work = _work(model, replace(workload, layers=layers), rows, target)
    _check_capacity(model, work, rows * chunks, workload.quant, target)
    if engine == "npu":
        blocks, info = npu_blocks(work, rows, chunks, mech, costs)
        ooo = mech.out_of_order_scheduling
    else:
        ooo = False
        blocks, info = single_processor_blocks(work, seq, engine, costs)
    sched = (out_of_order if ooo else in_order)(blocks)
    return _result(blocks, info, sched, target, seq, rows, chunks, engine, ooo)


def _costs(target) -> SocCosts:
    """The target's SocCosts, one per target fingerprint inside a step_memo() block (memo.py:
    its GEMM kernels are compiled and simulated once per shape across simulations)."""
    return memoised(lambda: ("soc_costs", target.fingerprint()), lambda: SocCosts(target))


def _work(model, workload, rows: int, target) -> PrefillWork:
    """prefill_work, once per model, workload, chunk and the target facts quantization reads
    (quantize.target_facts) inside a step_memo() block: a prompt's runs on the baselines'
    settings of the SoC share it."""
    return memoised(lambda: ("prefill_work", repr(model), workload, rows,
                             quantize.target_facts(target)),
                    lambda: prefill_work(model, workload, rows, target))


def _check_workload(workload) -> None:
    if workload.batch != 1:
        raise HwsimError(f"mobile-NPU prefill models batch 1 (the paper's setting), not "
                         f"--batch {workload.batch}")
    if workload.quant != "w8a8":
        raise HwsimError(f"mobile-NPU prefill runs llm.npu's INT8 graphs (--quant w8a8), not "
                         f"--quant {workload.quant}")
    if workload.kv_bits != 16:
        raise HwsimError("mobile-NPU prefill keeps the K/V cache in fp16 on the CPU (the "
                         f"authors' CPUKVCacheNPU): --kv-bits 16, not {workload.kv_bits}")
    if workload.sparsity:
        raise HwsimError(f"mobile-NPU prefill has no sparse kernels: --sparsity "
                         f"{workload.sparsity} is not supported on this target")


def _check_capacity(model, work: PrefillWork, tokens: int, quant: str, target) -> None:
    """Weights plus the K/V cache of the (padded) prompt must fit main memory."""
    kv = work.kv_bytes_per_token * tokens
    need = work.weight_bytes + kv
    capacity = target.memories[target.main_memory].capacity_bytes
    if need > capacity:
        raise HwsimError(
            f"{model.name} does not fit {target.name}: prefill needs {need / 1e9:.2f} GB "
            f"(weights {work.weight_bytes / 1e9:.2f} GB at {quant}, KV cache {kv / 1e9:.2f} GB)"
            f" but {target.main_memory} holds {capacity / 1e9:.2f} GB")


def _result(blocks, info, sched, target, seq, rows, chunks, engine, ooo) -> dict:
    seconds = sched.makespan_s
    processors = sorted({b.processor for b in blocks})
    busy = {p: sched.busy_s(blocks, p) for p in processors}
    energy = None
    if engine != "gpu":
        keys = ("compute", "dram", "sram", "pim")
        energy = {k: sum(c.energy_j.get(k, 0.0) for c in info) for k in keys}
        energy["static"] = target.energy.static.power_w * seconds
    bound = max(sum(c.bound_s for b, c in zip(blocks, info) if b.processor == p)
                for p in processors)
    total_j = sum(energy.values()) if energy else None
    npu_clock = target.clocks[target.units[target.units_for_queue("MM")[0]].clock].freq_hz
    return {
        "cycles": int(round(seconds * npu_clock)),
        "seconds": seconds,
        "tokens": seq,
        "tokens_per_s": seq / seconds,
        "energy_j": total_j,
        "joules_per_token": total_j / seq if total_j else None,
        "tokens_per_joule": seq / total_j if total_j else None,
        "energy_breakdown_j": energy,
        "bytes": {"dram_read": sum(c.dram_read_bytes for c in info)},
        "utilization": {p: busy[p] / seconds for p in processors},
        "roofline_seconds": bound,
        "bound": "subgraph schedule",
        "instructions": {"subgraphs": len(blocks)},
        "mobile_prefill": {"engine": engine, "chunk_tokens": rows, "chunks": chunks,
                           "padded_tokens": rows * chunks - seq,
                           "schedule": "out_of_order" if ooo else "in_order",
                           "busy_s": busy},
    }
