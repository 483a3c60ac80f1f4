"""One instruction: an opcode plus the values of its format's fields, validated on construction."""
from __future__ import annotations

from collections.abc import Iterable

from isa.enums import Queue
from isa.errors import IsaError
from isa.fields import QUEUES, BitField
from isa.opcodes import OPCODES, Opcode, OpSpec


def _check_own_queue(op: Opcode, wait, release) -> None:
    """An instruction never waits on, nor releases to, its own queue."""
    own = OPCODES[op].queue
    if own in wait or own in release:
        raise IsaError(f"{op.name}: a {own.name} instruction cannot exchange "
                       f"tokens with its own queue")


class Instruction:
    """Immutable. Fields not given are zero (queues: empty). Values are range-checked."""

    # no per-instruction cache of the fields dict: a program holds up to millions of
    # instructions, and a cached dict (about 1 KB each) was most of a large program's memory
    __slots__ = ("opcode", "_values")

    def __init__(self, opcode: Opcode | str, **fields) -> None:
        op = opcode if type(opcode) is Opcode else \
            (type(opcode) is str and _OPCODE_NAMES.get(opcode)) or _opcode(opcode)
        values = _BUILDERS[op](fields)
        object.__setattr__(self, "opcode", op)
        object.__setattr__(self, "_values", values)
        _check_own_queue(op, values[0], values[1])  # wait, release: the first two fields

    def __setattr__(self, name, value):
        raise AttributeError("Instruction is immutable; use replace()")

    @property
    def spec(self) -> OpSpec:
        return OPCODES[self.opcode]

    @property
    def queue(self) -> Queue:
        return OPCODES[self.opcode].queue

    @property
    def fields(self) -> dict:
        """Field name -> value, in table order (a fresh dict each call)."""
        return dict(zip(OPCODES[self.opcode].format.operand_index, self._values))

    @property
    def values(self) -> tuple:
        """The operand field values in table order (format.operand_fields)."""
        return self._values

    def __getitem__(self, name: str):
        return self._values[OPCODES[self.opcode].format.operand_index[name]]

    def with_tokens(self, wait, release) -> Instruction:
        """This instruction with its wait and release queues (the first two fields) set, given
        as the constructor takes them (a bit mask: bit q = Queue q, or names), checked as the
        constructor checks them; every other field as it is."""
        op = self.opcode
        fields = OPCODES[op].format.operand_fields
        w, r = _queue_value(op, fields[0], wait), _queue_value(op, fields[1], release)
        _check_own_queue(op, w, r)
        return Instruction.unchecked(op, (w, r) + self._values[2:])

    @staticmethod
    def unchecked(opcode, values: tuple) -> Instruction:
        """An instruction of `values` in field order, taken as they are: for callers that
        derive them from a checked instruction (new tokens checked apart, shifted addresses
        bounded by isa.compact_verify)."""
        out = object.__new__(Instruction)
        object.__setattr__(out, "opcode", opcode)
        object.__setattr__(out, "_values", values)
        return out

    def replace(self, **changes) -> Instruction:
        return Instruction(self.opcode, **{**self.fields, **changes})

    def __eq__(self, other) -> bool:
        return (isinstance(other, Instruction) and self.opcode == other.opcode
                and self._values == other._values)

    def __hash__(self) -> int:
        return hash((self.opcode, self._values))

    def __repr__(self) -> str:
        from isa.asm import format_instruction
        return f"Instruction({format_instruction(self)!r})"


def _opcode(opcode) -> Opcode:
    if isinstance(opcode, Opcode):
        return opcode
    try:
        return Opcode[str(opcode).upper()] if isinstance(opcode, str) else Opcode(opcode)
    except (KeyError, ValueError):
        raise IsaError(f"unknown opcode {opcode!r}") from None


def _coerce(op: Opcode, f: BitField, value):
    if f.kind == QUEUES:
        return _queues(op, f, value)
    if f.enum is not None:
        try:
            if isinstance(value, str):
                return _ENUM_NAMES[f.enum][value]
            return f.enum(value)
        except (KeyError, ValueError):
            names = ", ".join(e.name.lower() for e in f.enum)
            raise IsaError(f"{op.name}: field {f.name} has no value {value!r} "
                           f"(one of: {names})") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise IsaError(f"{op.name}: field {f.name} must be an integer, not {value!r}")
    if not 0 <= value <= f.max_value:
        raise IsaError(f"{op.name}: field {f.name} = {value} does not fit in {f.width} bits "
                       f"(0..{f.max_value})")
    return value


_QUEUE_SETS: dict = {}
_MASK_SETS: dict = {}


class _EnumNames(dict):
    """enum -> {name in any case -> member}, filled on first use."""

    def __missing__(self, enum):
        table = {}
        for member in enum:
            table[member.name] = table[member.name.lower()] = member
        self[enum] = table
        return table


_ENUM_NAMES = _EnumNames()


def _queues(op: Opcode, f: BitField, value) -> frozenset:
    key = tuple(value) if isinstance(value, (list, tuple)) else None
    if key is not None and all(type(k) is str for k in key):
        cached = _QUEUE_SETS.get(key)
        if cached is None:
            cached = _QUEUE_SETS[key] = _parse_queues(op, f, key)
        return cached
    return _parse_queues(op, f, value)


def _known_queues(value):
    """The queue set of a list or tuple of queue names seen before, else None."""
    try:
        return _QUEUE_SETS.get(tuple(value))
    except TypeError:  # an unhashable item: _coerce names the problem
        return None


def _parse_queues(op: Opcode, f: BitField, value) -> frozenset:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= f.max_value:
            raise IsaError(f"{op.name}: field {f.name} mask {value} does not fit in {f.width} bits")
        known = _MASK_SETS.get(value)  # one shared set per mask, not one per instruction
        if known is None:
            known = _MASK_SETS[value] = frozenset(q for q in Queue if value >> q & 1)
        return known
    items = value.split(",") if isinstance(value, str) else value
    out = set()
    for item in items if isinstance(items, Iterable) else [items]:
        try:
            out.add(item if isinstance(item, Queue) else Queue[str(item).strip().upper()])
        except KeyError:
            raise IsaError(f"{op.name}: field {f.name} names unknown queue {item!r} "
                           f"(queues: {', '.join(q.name for q in Queue)})") from None
    return frozenset(out)


def queue_mask(queues: frozenset) -> int:
    """frozenset of Queue -> bit mask (bit i = Queue i)."""
    return sum(1 << q for q in queues)


_OPCODE_NAMES = {name: op for op in Opcode for name in (op.name, op.name.lower())}


def _queue_value(op: Opcode, f: BitField, value) -> frozenset:
    """A queue-set field: a list or tuple of names seen before, or a mask (0 when the field
    is left out), looked up; anything else through _coerce."""
    if type(value) in (list, tuple):
        known = _known_queues(value)
    elif type(value) is int:
        known = _MASK_SETS.get(value)
    else:
        known = None
    return _coerce(op, f, value) if known is None else known


def _enum_lookup(enum) -> dict:
    """Every member of `enum` by name (as given and lower case) and by value."""
    return {**{m.name: m for m in enum}, **{m.name.lower(): m for m in enum},
            **{m.value: m for m in enum}}


def _unknown(op: Opcode, fields: dict):
    known = ", ".join(f.name for f in OPCODES[op].format.operand_fields)
    return IsaError(f"{op.name}: unknown field {sorted(fields)[0]!r} (fields: {known})")


def _builder(op: Opcode):
    """fields dict -> the values tuple of opcode `op`, checked as _coerce checks them (the
    fields it takes are popped; one left over is an IsaError). Generated as straight-line code
    per opcode, as dataclasses generates __init__: a loop over the fields with a dispatch per
    kind was most of the cost of building the hundreds of thousands of instructions of a
    long prefill."""
    lines = ["def build(fields):", "    take = fields.pop"]
    env = {"_coerce": _coerce, "_queue_value": _queue_value, "_unknown": _unknown, "op": op,
           "M": _MASK_SETS}
    names = []
    for i, f in enumerate(OPCODES[op].format.operand_fields):
        env[f"F{i}"], v = f, f"v{i}"
        names.append(v)
        lines.append(f"    {v} = take({f.name!r}, 0)")
        if f.kind == QUEUES:  # a mask seen before (0 when left out), else _queue_value
            lines += [f"    q = M.get({v}) if type({v}) is int else None",
                      f"    {v} = q if q is not None else _queue_value(op, F{i}, {v})"]
        elif f.enum is not None:  # a member, or a name or value of one, else _coerce's error
            env[f"E{i}"], env[f"L{i}"] = f.enum, _enum_lookup(f.enum)
            lines += [f"    if type({v}) is not E{i}:",
                      f"        m = L{i}.get({v}) if type({v}) in (str, int) else None",
                      f"        {v} = m if m is not None else _coerce(op, F{i}, {v})"]
        else:
            lines += [f"    if type({v}) is not int or not 0 <= {v} <= {f.max_value}:",
                      f"        {v} = _coerce(op, F{i}, {v})"]
    lines += ["    if fields:", "        raise _unknown(op, fields)",
              f"    return ({', '.join(names)},)"]
    exec("\n".join(lines), env)  # noqa: S102 (source built above from the field table)
    return env["build"]


_MASK_SETS[0] = frozenset()  # a queue field left out
_BUILDERS = {op: _builder(op) for op in OPCODES}
