"""How the compiler carves a target's on-chip buffers into regions.

Each buffer is split equally among the main roles it `holds` (weight, activation, output, kv).
A role's share becomes two ping-pong slots (double buffering); the output share is half a
resident region (activations kept on chip between ops) and half two output slots. A role no
buffer holds borrows the weight buffer's (kv) share.

Channel-local PIM GEMVs (compiler.pim_placement) run many at once, one per PIM channel, so
with `pim_output_slots` n > 0 the output slots' half is split again: the two output slots take
its first half, n "pim_output" slots (used in turn) the second.
"""
from __future__ import annotations

from dataclasses import dataclass

from targets.frozen import FrozenDict, remembered_fact

MAIN_ROLES = ("weight", "activation", "output", "kv")
ALIGN_BYTES = 64


@dataclass(frozen=True)
class Region:
    buffer_id: int
    buffer_name: str
    offset: int
    size_bytes: int


@dataclass(frozen=True)
class BufferPlan:
    slots: dict        # role -> (Region, Region): ping-pong halves ("pim_output": n Regions)
    resident: Region   # activations that stay on chip between ops

    def slot_bytes(self, role: str) -> int:
        return self.slots[role][0].size_bytes


def buffer_use(target, resident_peak_bytes: int) -> dict:
    """Per buffer: its size, the bytes the plan uses (slots + resident peak), the roles."""
    plan = plan_buffers(target)
    used = {name: 0 for name in target.buffers}
    seen = set()
    for pair in plan.slots.values():
        for region in pair:
            if (region.buffer_id, region.offset) not in seen:
                seen.add((region.buffer_id, region.offset))
                used[region.buffer_name] += region.size_bytes
    used[plan.resident.buffer_name] += resident_peak_bytes
    return {name: {"size_bytes": buf.size_bytes, "used_bytes": used[name],
                   "holds": list(buf.holds)} for name, buf in target.buffers.items()}


def plan_buffers(target, pim_output_slots: int = 0) -> BufferPlan:
    """The plan of `target`'s buffers; a loaded (frozen, shared) target's is made once per
    `pim_output_slots` (targets/frozen.py; a plan is immutable)."""
    return remembered_fact(target, f"buffer_plan/{pim_output_slots}",
                           lambda: _plan(target, pim_output_slots))


def _plan(target, pim_output_slots: int) -> BufferPlan:
    names = list(target.buffers)
    shares: dict[str, Region] = {}
    for index, name in enumerate(names):
        buf = target.buffers[name]
        roles = [r for r in MAIN_ROLES if r in buf.holds]
        if not roles:
            continue
        size = _down(buf.size_bytes // len(roles))
        for k, role in enumerate(roles):
            if role not in shares:
                shares[role] = Region(index, name, k * size, size)
    shares.setdefault("kv", shares["weight"])
    slots, resident = {}, None
    for role, share in shares.items():
        if role == "output":
            half = _down(share.size_bytes // 2)
            resident = Region(share.buffer_id, share.buffer_name, share.offset, half)
            share = Region(share.buffer_id, share.buffer_name, share.offset + half, half)
            if pim_output_slots > 0:
                share, slots["pim_output"] = _split(share, pim_output_slots)
        if role == "kv" and share is shares["weight"] and "kv" not in _held(target):
            slots[role] = slots.get("weight") or _halves(share)
            continue
        slots[role] = _halves(share)
    return BufferPlan(slots=FrozenDict(slots), resident=resident)


def _held(target) -> set:
    return {r for b in target.buffers.values() for r in b.holds}


def _halves(share: Region) -> tuple[Region, Region]:
    half = _down(share.size_bytes // 2)
    return (Region(share.buffer_id, share.buffer_name, share.offset, half),
            Region(share.buffer_id, share.buffer_name, share.offset + half, half))


def _split(share: Region, n: int) -> tuple[Region, tuple]:
    """(the first half of `share`, its second half cut into n equal slots)."""
    half = _down(share.size_bytes // 2)
    size = _down(half // n)
    first = Region(share.buffer_id, share.buffer_name, share.offset, half)
    return first, tuple(Region(share.buffer_id, share.buffer_name,
                               share.offset + half + i * size, size) for i in range(n))


def _down(size: int) -> int:
    return size // ALIGN_BYTES * ALIGN_BYTES
