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

from hwsim.api.flows.mobile_costs import ZERO, Cost, SocCosts
from hwsim.errors import HwsimError
from hwsim.timing.block_schedule import Block, in_order, out_of_order

NORM_PASSES = {"rmsnorm": 2, "layernorm": 3}


def _layer_work(model, rows: int, context: int) -> dict:
    """MACs and elementwise ops of one decoder layer for `rows` query tokens over `context`."""
    h, hd = model.hidden_size, model.head_dim
    qd, kvd = model.num_heads * hd, model.num_kv_heads * hd
    up = model.intermediate_size * (2 if model.gated_mlp else 1)
    norm = NORM_PASSES.get(model.norm, 3) * rows * h
    rope = 2 * rows * (qd + kvd) * model.rotary_fraction if model.position == "rope" else 0
    return {
        "linears": {"qkv": (h, qd + 2 * kvd), "o": (qd, h), "up": (h, up),
                    "down": (model.intermediate_size, h)},
        "norm_ops": norm,
        "add_ops": rows * h,                     # one residual add
        "norm1_ops": norm + rows * h,            # the residual add, then the norm
        "norm2_ops": norm + rows * h,
        "attn_macs": 2 * model.num_heads * rows * context * hd,   # scores + context
        "attn_ops": 3 * model.num_heads * rows * context + rope,  # softmax passes + RoPE
        "act_elements": rows * model.intermediate_size,
    }


def _npu_linear(costs: SocCosts, rows: int, shapes: list, per_group: bool) -> Cost:
    cost = costs.npu_graph_call()
    for k, n in shapes:
        cost = cost + costs.npu_gemm(rows, k, n)
        if per_group:
            cost = cost + costs.npu_per_group_extra(rows, k, n)
    return cost


def _shadow(costs: SocCosts, rows: int, shapes: list, fraction: float) -> Cost:
    """Outlier channels of each linear's input, in fp16 on the CPU (their weight rows too)."""
    macs = sum(rows * math.ceil(fraction * k) * n for k, n in shapes)
    weight_bytes = sum(2 * math.ceil(fraction * k) * n for k, n in shapes)
    return costs.cpu(macs, rows * sum(n for _, n in shapes), "fp16", weight_bytes)


def shadowed(layer: int, fraction: float) -> bool:
    """Whether `layer` keeps outlier handling when only `fraction` of the layers do (the paper
    prunes it from the least important ones): spread evenly, so any first n layers hold
    floor(n x fraction) shadowed ones."""
    return math.floor((layer + 1) * fraction + 1e-9) > math.floor(layer * fraction + 1e-9)


def npu_blocks(model, layers: int, rows: int, chunks: int, mech, costs: SocCosts) -> list:
    """Per chunk and layer, as the authors' chunk-pipeline Qwen prefill places them
    (UbiquitousLearning/mllm@11a2fb2a examples/main_qwen_npu.hpp): one NPU graph holds layer
    L-1's O projection, residual add, RMSNorm, MLP (SiLU and mul inside) and residual add, then
    layer L's input RMSNorm and Q/K/V; the CPU runs RoPE and attention over the fp16 K/V cache.
    A layer that keeps outlier handling ends its graph after its MLP: its down projection's
    outliers are corrected on the CPU (the shadow needs the graph's outputs) and the next layer's
    input norm runs there too before a new graph starts."""
    blocks: list[Block] = []
    info: list[Cost] = []
    qkv_of: dict[tuple[int, int], int] = {}
    per_group = not mech.outlier_extraction

    def add(name, proc, cost, deps):
        blocks.append(Block(name, proc, cost.seconds, tuple(sorted(set(deps)))))
        info.append(cost)
        return len(blocks) - 1

    def graph(name, shapes, vector_ops, deps):
        cost = _npu_linear(costs, rows, shapes, per_group)
        if vector_ops:
            cost = cost + costs.npu_vector(vector_ops, 1)
        return add(name, "npu", cost, deps)

    for i in range(chunks):
        w = _layer_work(model, rows, (i + 1) * rows)
        lin = w["linears"]
        post_shapes = [lin["o"], lin["up"], lin["down"]]
        # residual adds, the post-attention RMSNorm, SiLU and mul inside the graph
        post_ops = 2 * w["add_ops"] + w["norm_ops"] + 2 * w["act_elements"]
        prev = None            # block the next layer's input waits for
        open_post = False      # layer L-1's O + MLP not yet issued: it joins layer L's graph
        for layer in range(layers):
            tag = f"c{i}.L{layer}"
            deps = [] if prev is None else [prev]
            if open_post:
                g = graph(f"{tag}.post_prev+qkv", post_shapes + [lin["qkv"]],
                          post_ops + w["norm_ops"], deps)
            else:
                n1 = add(f"{tag}.norm1", "cpu", costs.cpu(0, w["norm_ops"], "fp16"), deps)
                g = graph(f"{tag}.qkv", [lin["qkv"]], 0, [n1])
            qkv_of[(i, layer)] = g
            attn = add(f"{tag}.attn", "cpu", costs.cpu(w["attn_macs"], w["attn_ops"], "fp16"),
                       [qkv_of[(j, layer)] for j in range(i + 1)])
            shadow = mech.outlier_extraction and shadowed(layer, mech.outlier_layer_fraction)
            if shadow or layer == layers - 1:
                prev = graph(f"{tag}.post", post_shapes, post_ops, [attn])
                if shadow:
                    prev = add(f"{tag}.shadow", "cpu", _shadow(
                        costs, rows, [lin["down"]], mech.outlier_channel_fraction), [prev])
                open_post = False
            else:
                prev, open_post = attn, True
    return blocks, info


def single_processor_blocks(model, layers: int, rows: int, engine: str,
                            costs: SocCosts) -> tuple[list, list]:
    """Every block on the CPU (INT8 linears, llama.cpp / MNN) or the GPU (fp16, TFLite /
    MLC-LLM); the whole prompt is one pass, blocks in order."""
    blocks, info = [], []
    for layer in range(layers):
        w = _layer_work(model, rows, rows)
        cost = ZERO
        for k, n in w["linears"].values():
            if engine == "cpu":
                cost = cost + costs.cpu(rows * k * n, 0, "int8", k * n)
            else:
                cost = cost + costs.gpu(rows * k * n, 0, 2 * k * n)
        other_ops = w["norm1_ops"] + w["norm2_ops"] + w["attn_ops"] + 2 * w["act_elements"]
        cost = cost + (costs.cpu(w["attn_macs"], other_ops, "fp16") if engine == "cpu"
                       else costs.gpu(w["attn_macs"], other_ops))
        blocks.append(Block(f"L{layer}", engine, cost.seconds, (layer - 1,) if layer else ()))
        info.append(cost)
    return blocks, info


def simulate(model, workload, target) -> dict:
    """Prefill of `workload.seq` tokens (batch 1) on a mobile_npu target; simulate's JSON."""
    if workload.batch != 1:
        raise HwsimError(f"mobile-NPU prefill models batch 1 (the paper's setting), not "
                         f"--batch {workload.batch}")
    mech, costs = target.mechanisms, SocCosts(target)
    layers = min(workload.layers or model.num_layers, model.num_layers)
    seq, engine = workload.seq, mech.prefill_engine
    if engine == "npu":
        rows = mech.chunk_tokens if mech.chunked_prefill else seq
        chunks = math.ceil(seq / rows)
        blocks, info = npu_blocks(model, layers, rows, chunks, mech, costs)
        ooo = mech.out_of_order_scheduling
    else:
        rows, chunks, ooo = seq, 1, False
        blocks, info = single_processor_blocks(model, layers, seq, engine, costs)
    sched = (out_of_order if ooo else in_order)(blocks)
    return _result(blocks, info, sched, target, seq, rows, chunks, engine, ooo)


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
