"""`simulate --check`: run the compiled program in functional mode and compare its results
with the compiler's integer reference, bit for bit.

Compared: every op output the program leaves in off-chip memory at the end (the LM head's
logits and every spilled tensor whose region no later tensor reused), and the KV cache rows
this step appended. Token ids are seeded (the same ids every run)."""
from __future__ import annotations

import numpy as np

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.ir.ops import OpKind
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model, resolve_workload
from compiler.program_data import program_data
from hwsim.errors import HwsimError
from hwsim.functional import execute


def seeded_token_ids(vocab: int, count: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 7]).integers(0, vocab, size=count)


def functional_check(model_name: str, workload: Workload, target, seed: int = 0) -> dict:
    model = load_model(model_name)
    workload = resolve_workload(workload, target)
    if workload.phase == "generate":
        raise HwsimError("--check runs one forward pass: use --phase prefill or decode")
    compiled = compile_model(model, workload, target, annotate=True)
    graph = compiled.graph
    ids = seeded_token_ids(model.vocab_size, workload.batch * graph.workload.step_tokens, seed)
    try:
        data = program_data(graph, ids, seed)
    except CompilerError as err:
        raise HwsimError(f"--check: {err}") from None
    mem = execute(compiled.program, target, data.image, data.constants, data.token_ids)
    ref = data.reference
    checked = {}
    for op in graph.ops():
        if op.kind == OpKind.KV_WRITE:
            checked[op.name] = _compare_kv(mem.dram, op, ref)
        elif graph.nx.out_degree(op.name) == 0 and op.attr("home")[0] != "onchip":
            want = np.asarray(ref.values[op.name]).astype(np.int8)
            addr = int(op.attr("home")[1])
            got = mem.dram[addr:addr + want.size].view(np.int8).reshape(want.shape)
            checked[op.name] = _counts(got, want)
    exact = all(c["mismatches"] == 0 for c in checked.values())
    return {"bit_exact": exact, "compared": checked,
            "instructions": len(compiled.program), "seed": seed}


def _compare_kv(dram: np.ndarray, op, ref) -> dict:
    """The rows this step appended to each cache part, against the reference's integers."""
    full = ref.kv_full_q[op.name]
    ctx, q_len, row = ref.context, ref.q_len, int(op.attr("row_bytes"))
    got, want = [], []
    for part, base in zip(full, (op.attr("k_addr"), op.attr("v_addr"))):
        b_n, heads = part.shape[:2]
        for b in range(b_n):
            for h in range(heads):
                addr = int(base) + ((b * heads + h) * int(op.attr("max_len")) + ctx) * row
                got.append(dram[addr:addr + q_len * row].view(np.int8))
                want.append(part[b, h, ctx:ctx + q_len].astype(np.int8).ravel())
    return _counts(np.concatenate(got), np.concatenate(want))


def _counts(got: np.ndarray, want: np.ndarray) -> dict:
    return {"elements": int(want.size), "mismatches": int(np.count_nonzero(got != want))}
