"""Functional mode: execute an isa.Program on numpy arrays.

`execute(program, target, dram, constants, token_ids)` runs every instruction in a
token-consistent order (isa.verify.issue_order: any order the tokens allow gives the same
result when the compiler's dependencies are complete, so this also checks them) on a copy of
the off-chip image and zeroed on-chip buffers, and returns the memories after the run.

Instruction semantics live in memory.py (LOAD / STORE byte copies, int packing), matrix.py
(integer GEMMs and their int32 -> int8 conversion) and vector.py (the integer path's vector
ops). What the 256-bit words leave out (row pitches, a tile's position in its tensor, the op
an instruction belongs to) comes from the program's annotations (compile with
annotate=True); per-op scales and gains come from `constants` (compiler.program_data), the
contents of the units' parameter memories. Without constants a program must be
self-describing: REQUANT then uses its imm / shift as one multiplier.
"""
from __future__ import annotations

import numpy as np

from hwsim.errors import HwsimError
from hwsim.functional import matrix, vector
from hwsim.functional.memory import Memories
from isa import Opcode, verify
from isa.verify import issue_order

MATRIX_OPS = (Opcode.MATMUL, Opcode.GEMV, Opcode.PIM_GEMV)
CONVERSIONS = ("REQUANT", "VCOPY", "SILU", "GELU", "RELU")


def execute(program, target, dram: np.ndarray, constants: dict | None = None,
            token_ids: np.ndarray | None = None) -> Memories:
    """Run `program` on `target`'s buffers and a copy of `dram` (uint8); returns the memories."""
    resources = target.isa_resources()
    verify(program, resources)
    image = np.asarray(dram, dtype=np.uint8)
    size = max(image.size, int(program.metadata.get("dram_bytes", 0)))
    mem = Memories(np.pad(image, (0, size - image.size)), [b for _, b in resources.buffers])
    notes = program.metadata.get("notes", {})
    for queue, index in issue_order(program):
        instr = program.streams[queue][index]
        queue_notes = notes.get(queue.name)
        note = (queue_notes[index] if queue_notes else None) or {}
        const = constants.get(note["op"]) if constants and "op" in note else None
        _step(mem, instr, note, const, token_ids)
    return mem


def _step(mem: Memories, instr, note: dict, const: dict | None, token_ids) -> None:
    op, f = instr.opcode, instr.fields
    if op in (Opcode.LOAD, Opcode.STORE):
        _copy(mem, op, f, note, const["gather_ids"] if const and "gather_ids" in const
              else token_ids)
    elif op in MATRIX_OPS:
        matrix.run_matrix(mem, f, note, const)
    elif op.name in CONVERSIONS and ("col0" in note or const is None):
        matrix.convert(mem, op.name, f, note, const)
    elif instr.queue.name == "VEC":
        if const is None:
            raise HwsimError(f"functional: {op.name} needs its op's constants "
                             f"(compiler.program_data) and annotations")
        vector.run_vector(mem, op.name, f, note, const)
    # NOP / SYNC / HALT carry tokens only


def _copy(mem: Memories, op, f: dict, note: dict, token_ids) -> None:
    rows, width = f["rows"], f["row_bytes"]
    sram_pitch = f["sram_stride_bytes"] or width
    dram_pitch = f["dram_stride_bytes"] or width
    if op == Opcode.STORE:
        data = mem.rows(f["buf"], f["sram_addr"], rows, width, sram_pitch)
        mem.write_rows(15, f["dram_addr"], data, dram_pitch)
        return
    if "gather_row0" in note:  # embedding: row r is the table row of id r (token or position)
        if token_ids is None:
            raise HwsimError("functional: the embedding gather needs token ids")
        ids = np.asarray(token_ids)[note["gather_row0"]:note["gather_row0"] + rows]
        data = np.concatenate([mem.rows(15, f["dram_addr"] + int(i) * width, 1, width, width)
                               for i in ids])
    else:
        data = mem.rows(15, f["dram_addr"], rows, width, dram_pitch)
    mem.write_rows(f["buf"], f["sram_addr"], data, sram_pitch)
