"""One instruction: an opcode plus the values of its format's fields, validated on construction."""
from __future__ import annotations

from collections.abc import Iterable

from isa.enums import Queue
from isa.errors import IsaError
from isa.fields import QUEUES, BitField
from isa.opcodes import OPCODES, Opcode, OpSpec


class Instruction:
    """Immutable. Fields not given are zero (queues: empty). Values are range-checked."""

    # no per-instruction cache of the fields dict: a program holds up to millions of
    # instructions, and a cached dict (about 1 KB each) was most of a large program's memory
    __slots__ = ("opcode", "_values")

    def __init__(self, opcode: Opcode | str, **fields) -> None:
        op = opcode if type(opcode) is Opcode else \
            (type(opcode) is str and _OPCODE_NAMES.get(opcode)) or _opcode(opcode)
        spec = OPCODES[op]
        values = []
        take = fields.pop
        append = values.append
        for f, kind, limit in _PLANS[op]:
            value = take(f.name, 0)
            # the common cases, checked first: anything else goes through _coerce
            if kind is _PLAIN:
                if type(value) is int and 0 <= value <= limit:
                    append(value)
                    continue
            elif kind is _QUEUE_LIST:
                known = _known_queues(value) if type(value) in (list, tuple) else None
                if known is not None:
                    append(known)
                    continue
            elif type(value) is kind:  # a member of the field's enum
                append(value)
                continue
            elif type(value) is str or type(value) is int:  # its name, or its value
                member = _ENUM_MEMBERS[kind].get(value)
                if member is not None:
                    append(member)
                    continue
            append(_coerce(op, f, value))
        if fields:
            known = ", ".join(f.name for f in spec.format.operand_fields)
            raise IsaError(f"{op.name}: unknown field {sorted(fields)[0]!r} (fields: {known})")
        object.__setattr__(self, "opcode", op)
        object.__setattr__(self, "_values", tuple(values))
        own = spec.queue
        if own in values[0] or own in values[1]:  # wait, release: the first two fields
            raise IsaError(f"{op.name}: a {own.name} instruction cannot exchange tokens "
                           f"with its own queue")

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
        return frozenset(q for q in Queue if value >> q & 1)
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


_PLAIN, _QUEUE_LIST = "plain", "queues"
# per opcode: (field, how its value is checked first: _PLAIN integer, _QUEUE_LIST of queue
# names already seen, or the field's enum class; its largest value), in table order
_PLANS = {op: tuple((f, _QUEUE_LIST if f.kind == QUEUES else f.enum or _PLAIN, f.max_value)
                    for f in spec.format.operand_fields) for op, spec in OPCODES.items()}
_OPCODE_NAMES = {name: op for op in Opcode for name in (op.name, op.name.lower())}
# per enum of a field: its members by name (either case) and by integer value, as _coerce
# accepts them (anything else goes through _coerce, which names the problem)
_ENUM_MEMBERS = {kind: {**_ENUM_NAMES[kind], **{int(m): m for m in kind}}
                 for plan in _PLANS.values() for _, kind, _ in plan
                 if kind not in (_PLAIN, _QUEUE_LIST)}
