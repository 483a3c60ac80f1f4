"""Cross-queue on-chip hazards a program leaves unordered (a test helper).

Each queue runs in order; two queues are ordered only by tokens. A vector clock per
instruction (its own queue's position, joined with the clock of the instruction that released
each token it takes, tokens being FIFO per channel) says which instructions of every other
queue are guaranteed to have finished before it starts. A read of on-chip bytes last written
by another queue, or a write of bytes another queue wrote or read, with that instruction not
in the clock, is a race: the result depends on timing."""
from __future__ import annotations

import numpy as np

from isa import Queue
from isa.formats import DRAM_BUFFER_ID
from isa.verify import issue_order, operand_extents


def _onchip(instr):
    reads, writes = [], []
    for name, buf, offset, extent in operand_extents(instr):
        if name == "dram" or buf == DRAM_BUFFER_ID:
            continue
        if name in instr.spec.reads:
            reads.append((buf, offset, extent))
        if name in instr.spec.writes:
            writes.append((buf, offset, extent))
    return reads, writes


def races(program, buffer_bytes: list[int]) -> list[tuple]:
    """(kind, queue, index, other queue, other index, buffer, offset) of every unordered pair."""
    n = len(Queue)
    released: dict[tuple, list] = {}
    taken: dict[tuple, int] = {}
    clock = {q: np.zeros(n, dtype=np.int64) for q in Queue}
    last_write = [np.full((n, size), -1, dtype=np.int64) for size in buffer_bytes]
    last_read = [np.full((n, size), -1, dtype=np.int64) for size in buffer_bytes]
    found = []
    for q, i in issue_order(program):
        instr = program.streams[q][i]
        vc = clock[q].copy()
        for s in instr["wait"]:
            k = taken.get((s, q), 0)
            taken[(s, q)] = k + 1
            vc = np.maximum(vc, released[(s, q)][k])
        vc[q] = i + 1
        reads, writes = _onchip(instr)
        checks = [("RAW", r, (last_write,)) for r in reads] + \
                 [("WAR/WAW", w, (last_write, last_read)) for w in writes]
        for kind, (buf, offset, extent), tables in checks:
            for table in tables:
                latest = table[buf][:, offset:offset + extent].max(axis=1)
                for other in range(n):
                    if other != q and latest[other] >= vc[other]:
                        found.append((kind, q.name, i, Queue(other).name, int(latest[other]),
                                      buf, offset))
        for buf, offset, extent in reads:
            last_read[buf][q, offset:offset + extent] = i
        for buf, offset, extent in writes:
            last_write[buf][q, offset:offset + extent] = i
        clock[q] = vc
        for d in instr["release"]:
            released.setdefault((q, d), []).append(vc.copy())
    return found
