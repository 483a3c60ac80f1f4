"""Deeply immutable targets, so one validated Target can be shared by every caller.

Parts are frozen pydantic models, but their `dict` and `list` fields (units, clocks,
macs_per_pe_per_cycle, ...) are not: `freeze` replaces them, all the way down, with FrozenDict and
FrozenList, which refuse every change (TypeError) and serialize as plain dicts and lists
(pydantic dumps a subclass as its base type: model_dump and the JSON are unchanged). A deep copy
or a pickle of a frozen tree is plain and mutable again, as a copy of a loaded target was before.

A frozen target's fingerprint is computed once and remembered here (`remember_fingerprint`),
keyed by the object itself, so a copy or any other Target computes its own; so are facts derived
from it alone (`remembered_fact`: the verifier's Resources), forgotten with it.
"""
from __future__ import annotations

import copy
import threading

from pydantic import BaseModel


def _refuse(self, *args, **kwargs):
    raise TypeError(f"a loaded target is immutable: {type(self).__name__} cannot be changed "
                    f"(load it with overrides, or model_dump it and validate the changed tree)")


class FrozenDict(dict):
    """A dict that refuses changes; deep copies and pickles of it are plain dicts."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return {copy.deepcopy(k, memo): copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self):
        return dict, (dict(self),)


class FrozenList(list):
    """A list that refuses changes; deep copies and pickles of it are plain lists."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = \
        reverse = __iadd__ = __imul__ = _refuse

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self):
        return list, (list(self),)


def freeze(value):
    """`value` with every dict and list in it (and in the models it holds) made immutable; a
    model is changed in place (its fields are already frozen) and returned."""
    if isinstance(value, BaseModel):
        fields = value.__dict__
        for name in list(fields):
            fields[name] = freeze(fields[name])
        return value
    if isinstance(value, dict) and not isinstance(value, FrozenDict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list) and not isinstance(value, FrozenList):
        return FrozenList(freeze(v) for v in value)
    return value


# id -> (the frozen target, its sha256, facts derived from it: name -> value)
_FINGERPRINTS: dict[int, tuple[object, bytes, dict]] = {}
_LOCK = threading.Lock()


def remember_fingerprint(target, fingerprint: bytes) -> None:
    """Remember the fingerprint of a frozen target (held here until `forget_fingerprint`)."""
    with _LOCK:
        _FINGERPRINTS[id(target)] = (target, fingerprint, {})


def forget_fingerprint(target) -> None:
    with _LOCK:
        if _FINGERPRINTS.get(id(target), (None,))[0] is target:
            del _FINGERPRINTS[id(target)]


def known_fingerprint(target) -> bytes | None:
    """The remembered fingerprint of this very object, or None."""
    known = _FINGERPRINTS.get(id(target))
    return known[1] if known is not None and known[0] is target else None


def remembered_fact(target, name: str, compute):
    """compute(), worked out once per remembered (frozen, shared) target and kept with its
    fingerprint; for any other target (a copy, one built in code) computed at every call.
    `compute` must read nothing but the target, and its value must be immutable."""
    known = _FINGERPRINTS.get(id(target))
    if known is None or known[0] is not target:
        return compute()
    facts = known[2]
    value = facts.get(name)
    if value is None:
        value = facts[name] = compute()
    return value
