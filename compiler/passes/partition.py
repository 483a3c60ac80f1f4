"""Partition: give every op a queue, a unit and an opcode by hardware affinity.

Matrix products with few rows (decode GEMVs) prefer the GEMV queue (MV), larger ones the
matrix unit (MM); where the two queues' units differ, the one with the shorter roofline
estimate for the product's row count runs it (a systolic array is held back by few rows, a
vector unit by many), the preference breaking ties. Decode attention goes to PIM banks when
the target has them and the `pim_attention` mechanism is on (a KV cache stored at another
width than the PIM multipliers take is refused); elementwise work to VEC; the embedding
gather to LD and the KV-cache append to ST. Within a queue the first unit that computes the
op's dtype runs it; a weight-only product (w4a16, w8a16) runs only on a unit that can dequantize its
weights (a GPU, or a unit with dequant_weights_per_cycle), else it is refused with one line.
"""
from __future__ import annotations

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind
from compiler.passes.tile import matrix_dims

GEMV_MAX_ROWS = 8  # at most this many rows per weight pass: a matrix-vector product

VEC_OPCODES = {OpKind.SOFTMAX: "SOFTMAX", OpKind.RMSNORM: "RMSNORM", OpKind.LAYERNORM: "LAYERNORM",
               OpKind.ROPE: "ROPE", OpKind.ADD: "VADD", OpKind.MUL: "VMUL",
               OpKind.MOE_ROUTER: "VMAX"}
ACTIVATION_OPCODES = {"silu": "SILU", "gelu": "GELU", "gelu_tanh": "GELU", "gelu_new": "GELU",
                      "relu": "RELU"}


def run(graph: Graph, target) -> Graph:
    int8_matrices = graph.workload.quant.endswith("a8")
    return graph.map_ops_by_content(lambda op: _place(op, target, int8_matrices))


def _place(op: Op, target, int8_matrices: bool) -> Op:
    kind = op.kind
    if kind == OpKind.EMBEDDING:
        return op.with_attrs(queue="LD", unit=0, opcode="LOAD")
    if kind == OpKind.KV_WRITE:
        return op.with_attrs(queue="ST", unit=0, opcode="STORE")
    if kind in (OpKind.MATMUL, OpKind.ATTN_SCORE, OpKind.ATTN_CONTEXT):
        return _place_matrix(op, target, "int8" if int8_matrices else op.inputs[0].dtype)
    opcode = ACTIVATION_OPCODES.get(op.attr("fn")) if kind == OpKind.ACTIVATION else \
        VEC_OPCODES[kind]
    if opcode is None:
        raise CompilerError(f"{op.name}: activation {op.attr('fn')!r} has no vector opcode")
    units = target.units_for_queue("VEC")
    if not units:
        raise CompilerError(f"target {target.name} has no vector unit for {op.name}")
    return op.with_attrs(queue="VEC", unit=0, opcode=opcode)


def _place_matrix(op: Op, target, dtype: str) -> Op:
    """`dtype`: what the MACs consume (int8 under the *a8 schemes, else the activation dtype)."""
    attention = op.kind != OpKind.MATMUL
    rows = op.attr("q_len") * op.attr("heads") // op.attr("kv_heads") if attention \
        else op.attr("rows")
    if attention and op.attr("q_len") == 1 and _pim_on(target):
        pim = [n for n in target.units_for_queue("MV") if target.units[n].kind == "pim"]
        _check_pim_operands(op, target, pim[0])
        return op.with_attrs(queue="MV", unit=target.units_for_queue("MV").index(pim[0]),
                             opcode="PIM_GEMV", compute_dtype=target.units[pim[0]].dtype)
    order = ("MV", "MM") if rows <= GEMV_MAX_ROWS else ("MM", "MV")
    weight_only = _weight_only(op)
    firsts = [c for c in (_first_unit(target, queue, dtype, weight_only) for queue in order)
              if c]
    if firsts:  # the faster queue's unit runs the product; the order breaks ties
        queue, index, _ = min(firsts, key=lambda c: _estimate_s(op, target, c, dtype, rows))
        return op.with_attrs(queue=queue, unit=index, compute_dtype=dtype,
                             opcode="GEMV" if queue == "MV" else "MATMUL")
    if weight_only and any(target.peak_macs_per_s(n, dtype) > 0 for n in target.units
                           if target.units[n].kind != "pim"):
        raise CompilerError(
            f"target {target.name} has no unit that dequantizes {op.weight.dtype} weights for "
            f"{dtype} matrix products ({op.name}, --quant {op.attr('quant')['scheme']}): its "
            "matrix units have no dequantization datapath (dequant_weights_per_cycle unset); "
            "pick fp16, w8a8 or w4a8")
    matrix_units = set(target.units_for_queue("MM")) | set(target.units_for_queue("MV"))
    supported = sorted({d for name in matrix_units if target.units[name].kind != "pim"
                        for d in ("int8", "fp16", "bf16", "fp32")
                        if target.peak_macs_per_s(name, d) > 0})
    raise CompilerError(f"target {target.name} has no unit computing {dtype} matrix products "
                        f"({op.name}); its matrix units compute {', '.join(supported)}: pick a "
                        "--quant that runs on them (fp16 for fp16, w8a8 or w4a8 for int8)")


def _check_pim_operands(op: Op, target, name: str) -> None:
    """PIM attention multiplies the KV cache where it lies, at the width it is stored: a cache
    narrower or wider than the PIM unit's multipliers take is refused, not silently timed as
    theirs."""
    kv_dtype, pim_dtype = op.kv.dtype if op.kv is not None else None, target.units[name].dtype
    if kv_dtype is None or kv_dtype == pim_dtype:
        return
    raise CompilerError(f"{op.name}: the KV cache is stored as {kv_dtype} (--kv-bits, --quant), "
                        f"but PIM unit {name} multiplies {pim_dtype} operands read from its "
                        f"banks (units.{name}.dtype = {pim_dtype}): store the cache as "
                        f"{pim_dtype} (--kv-bits 16 under --quant fp16) or --set "
                        "mechanisms.pim_attention=false")


def _first_unit(target, queue: str, dtype: str, weight_only: bool = False
                ) -> tuple[str, int, str] | None:
    """(queue, index, name) of the queue's first non-PIM unit computing `dtype` (and, for a
    weight-only product, dequantizing its weights), or None."""
    for index, name in enumerate(target.units_for_queue(queue)):
        unit = target.units[name]
        if unit.kind != "pim" and target.peak_macs_per_s(name, dtype) > 0 and \
                (not weight_only or _dequantizes(unit)):
            return queue, index, name
    return None


def _weight_only(op: Op) -> bool:
    """Integer weights multiplied with float activations (w4a16, w8a16)."""
    quant = op.attr("quant")
    return bool(quant) and quant["act_granularity"] == "none" and \
        quant["weight_dtype"].startswith("int")


def _dequantizes(unit) -> bool:
    """GPUs dequantize on their CUDA cores; other units need a dequantization datapath."""
    return unit.kind == "gpu" or unit.dequant_weights_per_cycle is not None


def _estimate_s(op: Op, target, candidate: tuple[str, int, str], dtype: str,
                rows: int) -> tuple[float, bool]:
    """(roofline seconds, compute-saturated) of a matrix product on a (queue, index, unit)
    candidate. Seconds: the larger of its compute time and its weight or KV bytes at the main
    memory's bandwidth. Compute time (Target.matrix_seconds):
    on a systolic array the fold formula the timing model charges, fill and drain included (a
    2-row decode product on a 128-row array pays 2R + C + m - 2 cycles per fold, not 2); on
    other units the MACs at the rate `rows` activation rows reach in the mode that queue runs
    the unit in (a unit serving both queues, FlightLLM's DSP chains, has a GEMV mode and an MM
    mode, each estimated on its own). Where both units wait on memory, one
    whose MACs alone already take that long has no slack for the rest of its queue's work, so
    the tie goes to a unit with slack. A threshold on rows alone (GEMV_MAX_ROWS) sent an 8-row
    product to a vector unit 8x slower than the systolic array beside it."""
    macs = op.flops / 2
    operand_bytes = op.weight_bytes_read + (op.kv.nbytes if op.kv is not None else 0)
    bandwidth = target.memories[target.main_memory].bandwidth_bytes_per_s
    queue, _, unit_name = candidate
    compute_s = target.matrix_seconds(unit_name, dtype, rows, matrix_dims(op), macs, queue)
    if compute_s == float("inf"):  # no such mode for this many rows
        return float("inf"), True
    memory_s = operand_bytes / bandwidth
    return max(compute_s, memory_s), compute_s >= memory_s


def _pim_on(target) -> bool:
    mech = getattr(target, "mechanisms", None)
    has_pim = any(u.kind == "pim" for u in target.units.values())
    return has_pim and bool(getattr(mech, "pim_attention", False))
