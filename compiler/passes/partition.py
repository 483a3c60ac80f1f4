"""Partition: give every op a queue, a unit and an opcode by hardware affinity.

Matrix products with few rows (decode GEMVs) go to the GEMV queue (MV), larger ones to the
matrix unit (MM); decode attention goes to PIM banks when the target has them and the
`pim_attention` mechanism is on; elementwise work to VEC; the embedding gather to LD and the
KV-cache append to ST. Within a queue the first unit that computes the op's dtype runs it; a
weight-only product (w4a16, w8a16) only on a unit that can dequantize its weights (a GPU, or a
unit with dequant_weights_per_cycle), else it is refused with one line.
"""
from __future__ import annotations

from compiler.errors import CompilerError
from compiler.ir.graph import Graph
from compiler.ir.ops import Op, OpKind

GEMV_MAX_ROWS = 8  # at most this many rows per weight pass: a matrix-vector product

VEC_OPCODES = {OpKind.SOFTMAX: "SOFTMAX", OpKind.RMSNORM: "RMSNORM", OpKind.LAYERNORM: "LAYERNORM",
               OpKind.ROPE: "ROPE", OpKind.ADD: "VADD", OpKind.MUL: "VMUL",
               OpKind.MOE_ROUTER: "VMAX"}
ACTIVATION_OPCODES = {"silu": "SILU", "gelu": "GELU", "gelu_tanh": "GELU", "gelu_new": "GELU",
                      "relu": "RELU"}


def run(graph: Graph, target) -> Graph:
    int8_matrices = graph.workload.quant.endswith("a8")
    return graph.map_ops(lambda op: _place(op, target, int8_matrices))


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
        return op.with_attrs(queue="MV", unit=target.units_for_queue("MV").index(pim[0]),
                             opcode="PIM_GEMV", compute_dtype=target.units[pim[0]].dtype)
    order = ("MV", "MM") if rows <= GEMV_MAX_ROWS else ("MM", "MV")
    weight_only = _weight_only(op)
    for queue in order:
        for index, name in enumerate(target.units_for_queue(queue)):
            unit = target.units[name]
            if unit.kind != "pim" and target.peak_macs_per_s(name, dtype) > 0 and \
                    (not weight_only or _dequantizes(unit)):
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


def _weight_only(op: Op) -> bool:
    """Integer weights multiplied with float activations (w4a16, w8a16)."""
    quant = op.attr("quant")
    return bool(quant) and quant["act_granularity"] == "none" and \
        quant["weight_dtype"].startswith("int")


def _dequantizes(unit) -> bool:
    """GPUs dequantize on their CUDA cores; other units need a dequantization datapath."""
    return unit.kind == "gpu" or unit.dequant_weights_per_cycle is not None


def _pim_on(target) -> bool:
    mech = getattr(target, "mechanisms", None)
    has_pim = any(u.kind == "pim" for u in target.units.values())
    return has_pim and bool(getattr(mech, "pim_attention", False))
