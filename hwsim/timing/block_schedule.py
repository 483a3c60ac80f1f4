"""Subgraph (block) scheduling across a phone SoC's processors, as mllm-NPU §3.4 describes it.

Each block runs on one processor ("npu" or "cpu"), one block per processor at a time, after
every block it depends on has finished. Two policies:

  in_order      blocks issue in program order: a block starts no earlier than the block
                before it in the list started (a shadow task issued right after its NPU block
                may overlap it; nothing further ahead can), so NPU and CPU mostly alternate.
  out_of_order  an online greedy list scheduler: whenever a processor is idle it takes a ready
                block; the CPU takes the one that unlocks the most NPU time (the summed
                duration of NPU blocks that depend on it), the NPU the shortest. Ties go to
                program order.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    name: str
    processor: str                       # "npu" or "cpu"
    seconds: float
    deps: tuple[int, ...] = field(default=())   # indices of earlier blocks in the list


@dataclass(frozen=True)
class Schedule:
    start_s: tuple[float, ...]
    end_s: tuple[float, ...]

    @property
    def makespan_s(self) -> float:
        return max(self.end_s, default=0.0)

    def busy_s(self, blocks: list[Block], processor: str) -> float:
        return sum(b.seconds for b in blocks if b.processor == processor)


def _check(blocks: list[Block]) -> None:
    for i, b in enumerate(blocks):
        if any(d >= i or d < 0 for d in b.deps):
            raise ValueError(f"block {i} ({b.name}) depends on a block not before it: {b.deps}")


def in_order(blocks: list[Block]) -> Schedule:
    _check(blocks)
    start, end = [0.0] * len(blocks), [0.0] * len(blocks)
    free: dict[str, float] = {}
    issued = 0.0
    for i, b in enumerate(blocks):
        t = max([issued, free.get(b.processor, 0.0)] + [end[d] for d in b.deps])
        start[i], end[i] = t, t + b.seconds
        free[b.processor] = end[i]
        issued = t
    return Schedule(tuple(start), tuple(end))


def out_of_order(blocks: list[Block]) -> Schedule:
    _check(blocks)
    n = len(blocks)
    waiting = [len(set(b.deps)) for b in blocks]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, b in enumerate(blocks):
        for d in set(b.deps):
            users[d].append(i)
    unlocks = [sum(blocks[u].seconds for u in users[i] if blocks[u].processor == "npu")
               for i in range(n)]
    ready_at = [0.0] * n
    ready = [i for i in range(n) if waiting[i] == 0]
    start, end = [0.0] * n, [0.0] * n
    free = {p: 0.0 for p in sorted({b.processor for b in blocks})}
    running: list[int] = []
    done = 0
    while done < n:
        # the processor that can start something earliest picks among the blocks ready by then
        best = None
        for p, t_free in free.items():
            cands = [i for i in ready if blocks[i].processor == p]
            if not cands:
                continue
            t = max(t_free, min(ready_at[i] for i in cands))
            if best is None or t < best[0]:
                best = (t, p, [i for i in cands if ready_at[i] <= t])
        if best is None or (running and min(end[j] for j in running) <= best[0]):
            j = min(running, key=lambda r: (end[r], r))   # finish a running block first
            running.remove(j)
            done += 1
            for u in users[j]:
                waiting[u] -= 1
                ready_at[u] = max(ready_at[u], end[j])
                if waiting[u] == 0:
                    ready.append(u)
            continue
        t, p, cands = best
        key = (lambda i: (-unlocks[i], i)) if p == "cpu" else (lambda i: (blocks[i].seconds, i))
        i = min(cands, key=key)
        ready.remove(i)
        start[i], end[i] = t, t + blocks[i].seconds
        free[p] = end[i]
        running.append(i)
    return Schedule(tuple(start), tuple(end))
