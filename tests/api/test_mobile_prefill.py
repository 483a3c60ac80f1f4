"""The mobile-NPU prefill model (hwsim/api/flows/mobile_prefill.py) against hand arithmetic and
against the other runs it must agree with: generate's TTFT, MoE / MLA / vocabulary, capacity,
and the boundary with the instruction-level tier (issue 18, findings 5, 6 and 16)."""
import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model, resolve_workload
from hwsim.api.flows import mobile_prefill
from hwsim.api.flows.run_model import simulate_model
from hwsim.simulate import simulate_program

TARGET = "mllm-npu-sd8gen3"
STREAM_BYTES_PER_S = 12.66e9     # runtime.npu_weight_stream_bytes_per_s (llm.npu §2.2 fit)
LPDDR_BYTES_PER_S = 76.8e9       # 4 x 16-bit LPDDR5X-9600 channels


def _target(sets=()):
    return targets.load_target(TARGET, list(sets))


def _prefill(model, seq, sets=(), layers=None):
    return mobile_prefill.simulate(load_model(model), Workload(phase="prefill", seq=seq,
                                                               layers=layers), _target(sets))


# ---- finding 5: generate's TTFT is the prefill phase's time -------------------------------

def test_generate_ttft_is_the_prefill_phase_and_tpot_lies_between_its_steps():
    target = _target()
    gen = Workload(phase="generate", seq=512, gen=5, layers=2)
    g = simulate_model("qwen1.5-1.8b", gen, target)
    p = simulate_model("qwen1.5-1.8b", Workload(phase="prefill", seq=512, layers=2), target)
    assert g["ttft_s"] == p["seconds"]
    first, last = (simulate_model("qwen1.5-1.8b", Workload(phase="decode", context=c,
                                                           layers=2), target)["seconds"]
                   for c in (512, 512 + 5 - 1))
    assert min(first, last) <= g["tpot_s"] <= max(first, last)
    assert g["seconds"] == pytest.approx(p["seconds"] + 5 * g["tpot_s"], rel=1e-12)


def test_generate_refuses_what_the_prefill_refuses(hwsim):
    r = hwsim("simulate", "qwen1.5-1.8b", "-t", TARGET, "--phase", "generate", "--batch", "2",
              "--seq", "64", "--gen", "2", "--layers", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "batch 1" in r.stderr


# ---- finding 6: MoE, MLA, vocabulary, capacity ---------------------------------------------

def test_moe_streams_every_expert_the_chunk_touches():
    # two layers, one 256-token chunk; the NPU streams every linear's INT8 weights at the
    # measured 12.66 GB/s. Per layer, LLaMA-3-8B: Q/K/V/O 4096 x (4096 + 1024 + 1024 + 4096)
    # and the MLP 3 x 4096 x 14336; Mixtral: the same attention, the router 4096 x 8, and
    # 512 routed rows (256 tokens x top-2) touch all 8 experts (8 x (1 - (6/8)^256) = 8.0),
    # each 3 x 4096 x 14336
    attention = 4096 * (4096 + 1024 + 1024 + 4096)
    dense_bytes = attention + 3 * 4096 * 14336
    moe_bytes = attention + 4096 * 8 + 8 * 3 * 4096 * 14336
    dense = _prefill("llama3-8b", 256, layers=2)["mobile_prefill"]["busy_s"]["npu"]
    moe = _prefill("mixtral-8x7b", 256, layers=2)["mobile_prefill"]["busy_s"]["npu"]
    assert dense >= 2 * dense_bytes / STREAM_BYTES_PER_S
    assert moe >= 2 * moe_bytes / STREAM_BYTES_PER_S
    # both run 3 graphs (3 x 0.355 ms); the extra time is the experts' stream, plus the
    # activation and mul over 512 routed rows instead of 256 on HVX (0.3 ms): within 1 %
    assert moe - dense == pytest.approx(2 * (moe_bytes - dense_bytes) / STREAM_BYTES_PER_S,
                                        rel=0.01)


def test_vocabulary_is_paid_by_the_lm_head():
    # LLaMA-3-8B and Mistral-7B differ only in the vocabulary (128,256 vs 32,000; the same
    # 4096-wide, 32-layer GQA body): the schedules match but for the last block, the CPU's LM
    # head for the last token, whose INT8 weights stream at the LPDDR5X peak (slower than the
    # CPU's 93 GMAC/s computes them: 4096 x 128256 / 93e9 = 5.6 ms < 6.8 ms)
    llama, mistral = (_prefill(m, 256) for m in ("llama3-8b", "mistral-7b"))
    expected_s = 4096 * (128256 - 32000) / LPDDR_BYTES_PER_S
    assert llama["seconds"] - mistral["seconds"] == pytest.approx(expected_s, rel=1e-6)


def test_mla_attention_reads_the_latent():
    # DeepSeek-V2-Lite, one 256-token chunk: 16 heads score against the 512 + 64 latent and
    # RoPE key and sum the 512-wide latent; the absorbed W_UK (16 x 128 x 512) and W_UV
    # (16 x 512 x 128) are applied per token; the fp16 cache holds 576 values per layer/token
    model = load_model("deepseek-v2-lite")
    target = _target()
    work = mobile_prefill.prefill_work(model, resolve_workload(
        Workload(phase="prefill", seq=256), target), 256, target)
    layer = work.layers[1]
    total = 512
    absorb = 2 * 256 * 16 * 128 * 512
    assert layer.attn_macs(total) == 16 * 256 * total * (576 + 512) + absorb
    assert work.kv_bytes_per_token == 27 * 576 * 2
    # layer 0 is dense (first_dense_layers 1), the rest route 256 x 6 rows over 64 experts
    assert sum(g.macs for g in work.layers[0].post) == 256 * (2048 * 2048 + 3 * 2048 * 10944)
    experts = [g for g in layer.post if g.count > 1]
    assert [(g.m, g.count) for g in experts] == [(24, 64)] * 3


def test_a_model_that_does_not_fit_the_phone_is_refused(hwsim):
    # Mixtral-8x7B at INT8: its experts alone are 32 x 8 x 3 x 4096 x 14336 B = 45.1 GB, more
    # than the phone's 24 GiB = 25.77 GB
    r = hwsim("simulate", "mixtral-8x7b", "-t", TARGET, "--phase", "prefill", "--seq", "1024")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "does not fit" in r.stderr and "25.77 GB" in r.stderr
    needed_gb = float(r.stderr.split("needs ")[1].split(" GB")[0])
    assert needed_gb >= 32 * 8 * 3 * 4096 * 14336 / 1e9


def test_capacity_refuses_exactly_past_weights_plus_kv():
    # Qwen1.5-1.8B, 256 tokens, by hand: fp16 embedding 151936 x 2048 x 2, INT8 LM head
    # 151936 x 2048, per layer INT8 Q/K/V/O 4 x 2048^2 + MLP 3 x 2048 x 5504 and two fp16
    # norms 2 x 2048 x 2, the fp16 final norm; fp16 K/V 24 x 2 x 2048 x 2 B per token
    weights = 151936 * 2048 * 2 + 151936 * 2048 + 24 * (4 * 2048 ** 2 + 3 * 2048 * 5504
                                                       + 2 * 2048 * 2) + 2048 * 2
    need = weights + 256 * 24 * 2 * 2048 * 2
    ok = _prefill("qwen1.5-1.8b", 256, [f"memories.lpddr.capacity_bytes={need}"], layers=None)
    assert ok["seconds"] > 0
    with pytest.raises(Exception, match="does not fit"):
        _prefill("qwen1.5-1.8b", 256, [f"memories.lpddr.capacity_bytes={need - 1}"])


@pytest.mark.parametrize("flags, words", [
    (["--quant", "fp16"], "--quant w8a8"), (["--kv-bits", "8"], "--kv-bits 16"),
    (["--sparsity", "2:4"], "--sparsity 2:4")])
def test_options_the_prefill_model_does_not_cover_are_refused(hwsim, flags, words):
    r = hwsim("simulate", "qwen1.5-1.8b", "-t", TARGET, "--phase", "prefill", "--seq", "64",
              "--layers", "1", *flags)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr


# ---- finding 16: where the block model and the instruction-level tier meet -----------------

def test_npu_linears_are_the_compilers_matmuls():
    # the block model's NPU GEMMs are the MATMULs the compiler places on the matrix queue for
    # the same chunk (same shapes, same experts), the LM head aside (CPU, last token)
    model, target = load_model("qwen1.5-1.8b"), _target()
    workload = resolve_workload(Workload(phase="prefill", seq=256, layers=2), target)
    work = mobile_prefill.prefill_work(model, workload, 256, target)
    ours = sorted((g.m, g.k, g.n) for w in work.layers for g in w.pre + w.post)
    graph = compile_model(model, workload, target).graph
    theirs = sorted((op.attr("rows"), *op.weight.shape[-2:]) for op in graph.ops()
                    if op.kind.value == "matmul" and op.attr("queue") == "MM")
    assert ours == theirs


def test_the_instruction_level_program_is_a_lower_bound_of_the_block_model():
    # the whole compiled program runs the same prefill with attention on the HMX in INT8, no
    # graph-execute cost and weights at the LPDDR5X peak: it may only be faster
    model, target = load_model("qwen1.5-1.8b"), _target()
    workload = resolve_workload(Workload(phase="prefill", seq=256, layers=2), target)
    isa_s = simulate_program(compile_model(model, workload, target).program, target,
                             256)["seconds"]
    assert isa_s <= _prefill("qwen1.5-1.8b", 256, layers=2)["seconds"]


def test_with_runtime_costs_neutral_the_npu_runs_at_the_isa_kernel_time():
    # graph execute 0 s and a weight stream at the top of the plausible range (1e14 B/s,
    # targets/ranges.py; far faster than any kernel) leave each NPU linear at its compiled
    # and simulated INT8 kernel: the NPU's busy time is then the ISA tier's, plus the graphs'
    # vector ops on HVX (128 lanes x 0.5 fp16 ops x 750 MHz)
    sets = ["runtime.npu_graph_execute_overhead_s=0", "runtime.npu_weight_stream_bytes_per_s=1e14"]
    model, target = load_model("qwen1.5-1.8b"), _target(sets)
    workload = resolve_workload(Workload(phase="prefill", seq=256, layers=2), target)
    graph = compile_model(model, workload, target).graph
    from compiler.kernels import kernel_graph
    from compiler.pipeline import compile_graph
    kernel_s = 0.0
    for op in graph.ops():
        if op.kind.value == "matmul" and op.attr("queue") == "MM":
            shape = (op.attr("rows"), *op.weight.shape[-2:])
            program = compile_graph(kernel_graph("gemm", shape, "int8"), target).program
            kernel_s += simulate_program(program, target, shape[0])["seconds"]
    h, inter, rows = 2048, 5504, 256
    # layer 0: QKV graph (no vector ops); [post(L0) + norm(L1) + QKV(L1)]; post(L1)
    post_ops = 2 * rows * h + 2 * rows * h + 2 * rows * inter
    vector_ops = 2 * post_ops + 2 * rows * h
    npu = _prefill("qwen1.5-1.8b", 256, sets, layers=2)["mobile_prefill"]["busy_s"]["npu"]
    assert npu == pytest.approx(kernel_s + vector_ops / (128 * 0.5 * 750e6), rel=1e-9)
