"""Check the program metadata the simulator reads, before it reads any of it.

A program from a `.hwx` file can carry any JSON object as metadata; the simulator reads five
keys of it (written by compiler.codegen): `workload`, `ops` (which rows belong to which op),
`cross_channel_ranges`, `pim_channels` and `dram_bytes`. `check_metadata` refuses each of them
when it has the wrong shape, with one HwsimError line naming the key, the value and the rule,
so a damaged or hand-made program is an error message and never a traceback.
"""
from __future__ import annotations

from numbers import Integral

from hwsim.errors import HwsimError

MAX_BATCH = 2**20            # sequences in one step
MAX_TOKENS = 2**24           # prompt, context or generated tokens of one sequence
_WORKLOAD_INTS = {"batch": (1, MAX_BATCH), "seq": (1, MAX_TOKENS), "context": (0, MAX_TOKENS),
                  "gen": (1, MAX_TOKENS), "kv_bits": (1, 64)}
PHASES = ("prefill", "decode")


def workload_of(program, source: str) -> dict:
    """The program's `workload` metadata, checked: phase, and integer sizes within limits."""
    meta = program.metadata.get("workload")
    if not meta:
        raise HwsimError(f"{source}: no workload in the program metadata (compile it with hwsim "
                         "compile)")
    if not isinstance(meta, dict):
        raise HwsimError(f"{source}: metadata workload must be an object, not "
                         f"{type(meta).__name__}")
    if meta.get("phase") not in PHASES:
        raise HwsimError(f"{source}: metadata workload.phase {meta.get('phase')!r} is not one of "
                         f"{', '.join(PHASES)}")
    for key, (low, high) in _WORKLOAD_INTS.items():
        if key in meta or key in ("batch", "seq"):
            _integer(meta.get(key), f"{source}: metadata workload.{key}", low, high)
    return meta


def check_metadata(program) -> None:
    """HwsimError unless every metadata key the simulator reads has the shape it expects."""
    meta = program.metadata
    lengths = program.counts_per_queue()  # a Program's or a CompactProgram's flat lengths
    for k, op in enumerate(_list(meta.get("ops", []), "ops")):
        where = f"metadata ops[{k}]"
        if not isinstance(op, dict) or not isinstance(op.get("name"), str):
            raise HwsimError(f"{where} must be an object with a string 'name'")
        for part in ("first", "count"):
            if not isinstance(op.get(part), dict):
                raise HwsimError(f"{where}.{part} must be an object of queue name -> integer")
        for q, length in lengths.items():
            first, count = op["first"].get(q, 0), op["count"].get(q, 0)
            if type(first) is int and type(count) is int and 0 <= first <= length and \
                    0 <= count <= length - first:
                continue  # the common case, without building the messages
            first = _integer(first, f"{where}.first.{q}", 0, length)
            _integer(count, f"{where}.count.{q}", 0, length - first)
    for k, entry in enumerate(_list(meta.get("cross_channel_ranges", []),
                                    "cross_channel_ranges")):
        _pair(entry, f"metadata cross_channel_ranges[{k}]", 0)
    placement = meta.get("pim_channels")
    if placement:
        if not isinstance(placement, dict):
            raise HwsimError("metadata pim_channels must be an object with 'regions'")
        for k, region in enumerate(_list(placement.get("regions"), "pim_channels.regions")):
            where = f"metadata pim_channels.regions[{k}]"
            if not isinstance(region, list) or len(region) != 3:
                raise HwsimError(f"{where} must be [base, bytes per request, channels]")
            _pair(region[:2], where, 1)
            for c in _list(region[2], f"pim_channels.regions[{k}][2]"):
                _integer(c, f"{where} channel", 0, 2**16)
    _integer(meta.get("dram_bytes", 0), "metadata dram_bytes", 0, 2**63 - 1)


def _list(value, key: str) -> list:
    if not isinstance(value, list):
        raise HwsimError(f"metadata {key} must be a list, not {type(value).__name__}")
    return value


def _pair(entry, where: str, least_size: int) -> None:
    if not isinstance(entry, list) or len(entry) != 2:
        raise HwsimError(f"{where} must be [address, bytes]")
    _integer(entry[0], f"{where} address", 0, 2**63 - 1)
    _integer(entry[1], f"{where} bytes", least_size, 2**63 - 1)


def _integer(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise HwsimError(f"{where} must be an integer in [{low}, {high}], not {value!r}")
    return value
