"""Which compiled ops a GPU serving stack launches as one kernel (units.*.kernel_fusion).

An eager serving stack pays host issue time per *kernel* it launches (hwsim.timing.host_issue),
and a stack's kernels are coarser than our lowering's ops where its model code fuses them. A
stack is a table {op-name suffix: kernel}: ops of one layer that follow each other in program
order and map to the same kernel are one launch; any other op is a launch of its own.

"vllm-0.1": vLLM 0.1.x (the FlightLLM artifact pins vllm==0.1.7), LLaMA decoder layer as its
model code launches it (vllm-project/vllm, vllm/model_executor/models/llama.py of the 0.1.x
releases: LlamaAttention.qkv_proj is one ColumnParallelLinear over q, k and v, LlamaMLP.gate_up_proj
one over gate and up, then SiluAndMul; the residual adds stay separate torch adds and RMSNorm one
custom kernel; vllm/model_executor/layers/attention.py @504cbc07: PagedAttentionWithRoPE applies
rotary_embedding_neox to q and k in one call, then reshape_and_cache, then one
single_query_cached_kv_attention for the decode tokens). Per layer that is 12 kernels: norm,
qkv, rotary, cache write, attention, o_proj, add, norm, gate_up, silu_and_mul, down, add;
against our 18 ops (q, k, v, two RoPEs, score, softmax and context are separate ops here).
The sampler's kernels (softmax, log, argmax) and the step's input copies are not in our
program and are not counted.

"hf-transformers": HF transformers' eager LlamaForCausalLM, grouped as "none" (one kernel per
compiled op) but launching more kernels than our ops: its RMSNorm, RoPE, attention and SiLU
modules are chains of small ATen kernels. The PyTorch profiler counted about 840 compute
kernels in one LLaMA2-7B decode step (this project's H100 measurement, transformers 5.17;
docs/fidelity.md "GPU calibration: H100 measured") against our 579 ops, so each of its kernels
stands for LAUNCHES_PER_KERNEL = 840 / 579 host launches (assumed the same for other shapes
and versions). Host issue time (runtime.<stack>.kernel_host_issue_s) is per launch.
"""
from __future__ import annotations

VLLM_01 = {
    "q_proj": "qkv_proj", "k_proj": "qkv_proj", "v_proj": "qkv_proj",
    "q_rope": "rotary_embedding_neox", "k_rope": "rotary_embedding_neox",
    "attn_score": "paged_attention", "softmax": "paged_attention",
    "attn_context": "paged_attention",
    "mlp_gate": "gate_up_proj", "mlp_up": "gate_up_proj",
}

# torch.compile (inductor) over a decoder with vLLM-style fused QKV / gate-up weights: the same
# GEMM and attention kernels, and inductor fuses the elementwise chain between the attention
# output projection and the MLP (residual add + RMSNorm) into one kernel (fused add-norm)
INDUCTOR = {**VLLM_01, "residual": "add_norm", "mlp_norm": "add_norm"}

STACKS = {"none": {}, "vllm-0.1": VLLM_01, "inductor": INDUCTOR, "hf-transformers": {}}

# host launches per kernel of the grouping (1 where the table is the stack's own kernel list)
HF_DECODE_STEP_LAUNCHES = 840     # PyTorch profiler, HF LLaMA2-7B decode step (above)
LLAMA2_7B_DECODE_STEP_OPS = 579   # our compiled LLaMA2-7B decode step, one kernel per op
LAUNCHES_PER_KERNEL = {"none": 1.0, "vllm-0.1": 1.0, "inductor": 1.0,
                       "hf-transformers": HF_DECODE_STEP_LAUNCHES / LLAMA2_7B_DECODE_STEP_OPS}


def kernel_keys(op_names: list, stack: str) -> list:
    """One key per op: ops that follow each other with equal keys are one kernel launch."""
    table = STACKS[stack]
    keys = []
    for k, name in enumerate(op_names):
        layer, _, suffix = str(name).rpartition(".")
        keys.append((layer, table[suffix]) if suffix in table else ("op", k))
    return keys
