"""Structure-aware .hwx mutants: programs whose bytes are well formed (valid checksum, known
sections) but whose content is wrong: a field out of range for the target, a dropped token, a
swapped instruction, a META of the wrong shape, a target name with a newline in it."""
from __future__ import annotations

import struct

from hypothesis import strategies as st

import isa
from isa import Queue
from isa.fields import QUEUES
from tests.fuzz.mutate import nasty_values

META_KEYS = ["workload", "ops", "pim_channels", "cross_channel_ranges", "dram_bytes", "model",
             "weights"]


def header_offsets(data: bytes) -> list[int]:
    """Offsets of the header fields and of every section's tag and length (the hot spots)."""
    offsets = [4, 6, 8]
    name_len = struct.unpack_from("<H", data, 8)[0]
    pos = 10 + name_len + 32
    offsets.append(pos)
    count = struct.unpack_from("<I", data, pos)[0]
    pos += 4
    for _ in range(count):
        offsets += [pos, pos + 4, pos + 8]
        length = struct.unpack_from("<I", data, pos + 4)[0]
        pos += 8 + length
    return offsets


@st.composite
def raw_sections(draw, data: bytes):
    """The seed's sections reordered, doubled or dropped (the checksum is fixed by the caller)."""
    name_len = struct.unpack_from("<H", data, 8)[0]
    head_end = 10 + name_len + 32
    count = struct.unpack_from("<I", data, head_end)[0]
    pos, sections = head_end + 4, []
    for _ in range(count):
        length = struct.unpack_from("<I", data, pos + 4)[0]
        sections.append(data[pos:pos + 8 + length])
        pos += 8 + length
    chosen = draw(st.lists(st.sampled_from(sections), min_size=0, max_size=count + 2))
    stated = draw(st.sampled_from([len(chosen), len(chosen) + 1, max(len(chosen) - 1, 0),
                                   2**32 - 1]))
    return data[:head_end] + struct.pack("<I", stated) + b"".join(chosen) + bytes(32)


@st.composite
def structural(draw, seeds, simulate: bool = False):
    """(mutated program, its seed's target)."""
    program, target = draw(st.sampled_from(list(seeds)))
    streams = {q: list(program.streams[q]) for q in Queue}
    metadata = dict(program.metadata)
    name = program.target_name
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "field", "drop", "dup", "swap", "token",
                                     "meta"] + ([] if simulate else ["name", "meta"])))
        if kind == "name":
            name = draw(st.sampled_from(["", " ", "a\nPIM_GEMV", "x;y", "é", "\u2028", "a b",
                                         '"q"', "t" * 300]))
        elif kind == "meta":
            key = draw(st.sampled_from(META_KEYS))
            metadata[key] = draw(st.one_of(nasty_values(), _meta_shapes(key)))
        else:
            _mutate_stream(draw, streams, kind)
    try:
        mutated = isa.Program(name, program.target_fingerprint, streams, metadata)
    except isa.IsaError:
        mutated = program
    return mutated, target


def _meta_shapes(key: str):
    """Values of about the right shape for the metadata keys the simulator reads."""
    small = st.integers(-2, 70000)
    return {
        "workload": st.fixed_dictionaries({"phase": st.sampled_from(["prefill", "decode", "x"]),
                                           "batch": small, "seq": small}),
        "ops": st.lists(st.fixed_dictionaries({
            "name": st.text(max_size=4),
            "first": st.dictionaries(st.sampled_from([q.name for q in Queue]), small),
            "count": st.dictionaries(st.sampled_from([q.name for q in Queue]), small)}),
            max_size=3),
        "pim_channels": st.fixed_dictionaries({"regions": st.lists(
            st.tuples(small, small, st.lists(small, max_size=3)).map(list), max_size=2)}),
        "cross_channel_ranges": st.lists(st.tuples(small, small).map(list), max_size=3),
    }.get(key, small)


def _mutate_stream(draw, streams, kind: str) -> None:
    queues = [q for q in Queue if streams[q]]
    q = draw(st.sampled_from(queues))
    stream = streams[q]
    i = draw(st.integers(0, len(stream) - 1))
    if kind == "drop":
        del stream[i]
    elif kind == "dup":
        stream.insert(i, stream[i])
    elif kind == "swap" and len(stream) > 1:
        j = min(i + 1, len(stream) - 1)
        stream[i], stream[j] = stream[j], stream[i]
    elif kind == "token":
        instr = stream[i]
        which = draw(st.sampled_from(["wait", "release"]))
        other = draw(st.sampled_from([x for x in Queue if x != q]))
        stream[i] = _replaced(instr, **{which: instr[which] ^ frozenset({other})})
    elif kind == "field":
        instr = stream[i]
        fields = [f for f in instr.spec.format.operand_fields if f.kind != QUEUES]
        f = draw(st.sampled_from(fields))
        if f.enum is not None:
            value = draw(st.sampled_from(list(f.enum)))
        else:
            value = draw(st.one_of(st.sampled_from([0, 1, 2, 3, f.max_value, f.max_value // 2]),
                                   st.integers(0, f.max_value)))
        stream[i] = _replaced(instr, **{f.name: value})


def _replaced(instr, **changes):
    try:
        return instr.replace(**changes)
    except isa.IsaError:
        return instr


def describe(program) -> str:
    return (f"program for {program.target_name!r}: {program.counts_per_queue()}, metadata keys "
            f"{sorted(program.metadata)}")


def check_round_trips(record, program) -> None:
    """Every program the reader accepts survives to_bytes -> from_bytes and asm(disasm(p))."""
    try:
        again = isa.from_bytes(isa.to_bytes(program))
        text = isa.disassemble(program)
        reassembled = isa.assemble(text)
    except Exception as err:  # noqa: BLE001 -- a failed round trip of any kind
        record.failure("crashes", "round trip", describe(program),
                       f"{type(err).__name__}: {str(err)[:200]}")
        return
    reassembled = isa.Program(reassembled.target_name, reassembled.target_fingerprint,
                              reassembled.streams, reassembled.metadata)
    if again != program or reassembled != program:
        record.failure("crashes", "round trip", describe(program),
                       "asm(disasm(p)) != p" if reassembled != program else "bytes round trip")
    else:
        record.note("round_trips")
