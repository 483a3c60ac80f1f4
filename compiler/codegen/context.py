"""Lowering context: the emitter, the slots, and where every tensor lives (on chip or off).

Tensors are addressed as 2-D row-major (rows, row_bytes). A read of a resident tensor is a
direct address; a read of a spilled tensor is a LOAD into an activation slot, unless a slot
still holds that same window from an earlier LOAD (a GEMV's input vector is loaded once, not
once per weight tile). A write to a resident tensor waits for the readers of whatever occupied
that range before; a write to a spilled tensor goes through an output slot and a STORE.
"""
from __future__ import annotations

from compiler import pim_placement
from compiler.buffer_plan import plan_buffers
from compiler.codegen.emitter import Emitter, Frontier
from compiler.codegen.slots import ResidentHazards, Slots
from compiler.ir.graph import Graph
from compiler.ir.tensor import TensorSpec


class Lowering:
    def __init__(self, graph: Graph, target, annotate: bool = False) -> None:
        self.graph, self.target, self.annotate = graph, target, annotate
        self.em = Emitter()
        self.segments = False  # stand for repeated loop iterations by copies (codegen.repeat)
        self.plan = plan_buffers(target, pim_placement.output_slots(target, graph.workload))
        by_region: dict = {}
        self.slots = {}
        for role, regions in self.plan.slots.items():
            key = (regions[0].buffer_id, regions[0].offset)
            self.slots[role] = by_region.setdefault(key, Slots(regions))
        self.hazards = ResidentHazards()
        self.writers: dict[str, Frontier] = {}
        self.readers: dict[str, Frontier] = {}
        self._row_bytes: dict[str, int] = {}

    def note(self, op_name: str, **facts) -> dict | None:
        """A functional annotation for an instruction of `op_name` (None unless annotating)."""
        return {"op": op_name, **facts} if self.annotate else None

    # ---- where a tensor lives -------------------------------------------------------------
    def spec(self, name: str) -> TensorSpec:
        return self.graph.op(name).output

    def row_bytes(self, name: str) -> int:
        found = self._row_bytes.get(name)
        if found is None:  # the graph does not change while it is lowered
            spec = self.spec(name)
            found = self._row_bytes[name] = spec.nbytes // spec.shape[0]
        return found

    def pitch(self, name: str, cols: int) -> int:
        """Bytes between successive rows of `name` as an instruction sees them: the tensor's
        row width where it lives on chip, `cols` once loaded into (or bound for) a slot."""
        return self.row_bytes(name) if self.home(name)[0] == "onchip" else cols

    def last_token_rows(self, op) -> int:
        """Row step of an op that reads only each sequence's last token (the LM head in
        prefill): step tokens; 1 for every other op."""
        return self.graph.workload.step_tokens if op.attr("role") == "lm_head" else 1

    def home(self, name: str):
        return self.graph.op(name).attr("home")

    def begin_tensor(self, name: str) -> list:
        """Call once before the first write of `name`; returns WAR dependencies."""
        home = self.home(name)
        self.writers[name] = Frontier()
        if home is None or home[0] != "onchip":  # off chip, or the KV cache itself
            self.readers[name] = Frontier()
            return []
        deps, readers = self.hazards.place(home[1], home[2], self.spec(name).nbytes)
        self.readers[name] = readers
        return deps

    # ---- reads -------------------------------------------------------------------------------
    def read(self, name: str, row0: int, rows: int, col0: int = 0, cols: int | None = None,
             row_step: int = 1):
        """-> (buffer id, address, deps, finish(records)) for rows row0, row0 + row_step, ...
        (`rows` of them) and bytes [col0, col0+cols) of each row. Call finish(...) with the
        records that read it."""
        home, width = self.home(name), self.row_bytes(name)
        cols = width - col0 if cols is None else cols
        writers = list(self.writers.get(name, ()))
        if home[0] == "onchip":
            readers = self.readers[name]
            return home[1], home[2] + row0 * width + col0, writers, readers.extend
        slots = self.slots["activation"]
        key = (name, row0, rows, col0, cols, row_step)
        held = slots.holding(key)  # the same window loaded before and not overwritten since
        if held is not None:
            index, ld = held
            region = slots.regions[index]
            return region.buffer_id, region.offset, [ld], \
                lambda recs: slots.read_by(index, *recs)
        index, region, prev = slots.acquire()
        ld = self.em.emit("LD", "LOAD", deps=[*writers, *prev], buf=region.buffer_id,
                          dtype=self.spec(name).dtype, sram_addr=region.offset,
                          dram_addr=home[1] + row0 * width + col0, rows=rows, row_bytes=cols,
                          dram_stride_bytes=width * row_step
                          if cols != width or row_step != 1 else 0)
        slots.remember(index, key, ld)
        return region.buffer_id, region.offset, [ld], lambda recs: slots.read_by(index, *recs)

    # ---- writes ------------------------------------------------------------------------------
    def output_target(self, name: str, row0: int, rows: int, col0: int = 0,
                      cols: int | None = None, staging=None):
        """Where a producer writes rows [row0, row0+rows) x bytes [col0, col0+cols) of `name`:
        (buffer, address, deps, commit(rec)); commit records the producing instruction and,
        for a spilled tensor, emits the STORE from an output slot. `staging` (role, index,
        region): the slot the producer reads (a matrix tile's accumulator); a spilled tile is
        converted in place there and stored from it, so the accumulators keep their ping-pong.
        Without it the tile is staged in the next output slot; a matrix op staging there would
        take both output slots per tile, and its next tile's product would wait for this
        tile's conversion (flightllm-u280 prefill, batch 6 x 100 tokens: 4 % slower than
        batches 1 and 5 run apart, all of it the spilled attention scores)."""
        home = self.home(name)
        width = self.row_bytes(name)
        cols = width - col0 if cols is None else cols
        if home[0] == "onchip":
            def commit(rec):
                self.writers[name].append(rec)
            return home[1], home[2] + row0 * width + col0, [], commit
        if staging is None:
            role, (index, region, prev) = "output", self.slots["output"].acquire()
        else:
            (role, index, region), prev = staging, []

        def commit_spill(rec):
            st = self.em.emit("ST", "STORE", deps=[rec], buf=region.buffer_id,
                              dtype=self.spec(name).dtype, sram_addr=region.offset,
                              dram_addr=home[1] + row0 * width + col0, rows=rows,
                              row_bytes=cols, dram_stride_bytes=width if cols != width else 0)
            self.slots[role].read_by(index, st)
            self.writers[name].append(st)
        return region.buffer_id, region.offset, list(prev), commit_spill

    def slot_for(self, role: str):
        return self.slots[role].acquire()

    def read_by(self, role: str, index: int, *records) -> None:
        self.slots[role].read_by(index, *records)
