"""Compact code generation: lower the head, two units of decoder layers, the last unit and
the tail; stand for the units between as copies of the second (isa.CompactProgram).

compiler.codegen.periodic says when that is exact (the graph repeats, the codegen state
repeats at three successive unit boundaries). Before the result is trusted, the emitted
instructions are checked too: the two lowered middle units and the last unit carry the same
opcodes and tokens, and their fields are affine in the unit index, moving only in address
fields. Anything else returns None and the caller lowers every layer (the flat program).

Within the lowered layers, loops whose iterations repeat (compiler.codegen.repeat: attention
key blocks, matrix M tiles, KV-append chunks) are stood for by isa Segments; their emitted
rows are checked here the same way (_segments), and a failed check compiles the step again
without segments.
"""
from __future__ import annotations

from compiler.codegen.context import Lowering
from compiler.codegen.generate import lower_op, program_metadata
from compiler.codegen.periodic import (layer_runs, relabel, shifted_name, snapshot,
                                       units_affine)
from compiler.passes.schedule import scheduled
from isa import OPCODES, Queue
from isa.compact import CompactProgram, Segment

MIN_COPIES = 1    # skip at least one unit, or compile flat
PERIODS = (1, 2)  # units of one layer, or two (ping-pong slots alternate every layer)


def generate_compact(graph, target, segments: bool = True) -> CompactProgram | None:
    """The compact program, or None where the layers do not repeat. `segments`: repeated
    loop iterations within a layer too (compiler.codegen.repeat); where their emitted rows
    do not check out, the compile is redone without them."""
    runs = layer_runs(scheduled(graph))
    if runs is None:
        return None
    head, layers, tail = runs
    cx = Lowering(graph, target)
    cx.segments = segments
    ops_meta = [lower_op(cx, op) for op in head]
    lowered = {op.name for op in head}
    snaps, bounds, flat, cuts, found = [], [], [], [], None
    for k in range(len(layers) + 1):
        bounds.append(cx.em.lens())
        flat.append(cx.em.flat_lens())
        snaps.append(snapshot(cx, k, bounds[max(0, k - 1)], lowered))
        cuts.append(len(ops_meta))
        found = _period(graph, layers, snaps, k)
        if found is not None or k == len(layers):
            break
        ops_meta += [lower_op(cx, op) for op in layers[k]]
        lowered.update(op.name for op in layers[k])
    if found is None:
        return None
    p, copies = found
    b = len(snaps) - 1  # the boundary reached: units [b - 2p, b - p) and [b - p, b) lowered
    relabel(cx, copies * p)
    for k in range(b + copies * p, len(layers)):
        ops_meta += [lower_op(cx, op) for op in layers[k]]
    ops_meta += [lower_op(cx, op) for op in tail]
    base = cx.em.finalize(target.name, target.fingerprint(),
                          program_metadata(graph, ops_meta, cx, False))
    starts = {q: (bounds[b - 2 * p][q.name], bounds[b - p][q.name], bounds[b][q.name])
              for q in Queue}
    deltas = _deltas(base, starts, copies)
    segs = _segments(base, cx.em.repeats, starts)
    if deltas is None or segs is None:
        return generate_compact(graph, target, False) if segments else None
    template = {q: (s[1], s[2]) for q, s in starts.items()}
    unit = {q.name: flat[b][q.name] - flat[b - p][q.name] for q in Queue}
    full_ops = _full_ops(ops_meta, cuts[b - p], cuts[b], copies, p, unit)
    return CompactProgram(base, template, copies, deltas, {**base.metadata, "ops": full_ops},
                          segs)


def _segments(base, repeats: list, starts: dict):
    """The emitter's repeated stretches as isa Segments, each checked as _deltas checks the
    units (units a, b and c of the stretch alike, fields affine, only addresses moving), and
    the segments of layer units a, b and the last alike; None where not."""
    out = []
    for (a, b, c), copies in repeats:
        rows = {q: (a[q.name], b[q.name], c[q.name]) for q in Queue if c[q.name] > b[q.name]}
        deltas = _deltas(base, rows, copies)
        if deltas is None:
            return None
        out.append(Segment({q: r[1:] for q, r in rows.items()}, copies, deltas))
    per_unit = [_relative(out, {q: (s[k], s[k + 1] if k < 2 else 2 * s[2] - s[1])
                                for q, s in starts.items()}) for k in range(3)]
    return tuple(out) if per_unit[0] == per_unit[1] == per_unit[2] else None


def _relative(segments: list, unit: dict) -> list:
    """The segments inside `unit` (rows per queue), as comparable values relative to it."""
    out = []
    for s in segments:
        if s.inside(unit):
            out.append((tuple((q, r[0] - unit[q][0], r[1] - r[0]) for q, r in s.rows.items()),
                        s.copies, tuple(sorted(s.deltas.items()))))
    return out


def _period(graph, layers: list, snaps: list, b: int):
    """(p, copies) when boundary b closes two units of p layers that start from the state b
    ends in, with at least MIN_COPIES units to skip before the last; else None."""
    for p in PERIODS:
        if b < 2 * p or not snaps[b] == snaps[b - p] == snaps[b - 2 * p]:
            continue
        copies = (len(layers) - b) // p - 1
        if copies >= MIN_COPIES and units_affine(graph, layers, b - 2 * p, p, copies + 3):
            return p, copies
    return None


def _deltas(base, starts: dict, copies: int):
    """Per queue, per row of the second unit: the (value index, delta) of each field that
    moves from unit to unit; None unless units a, b and the last agree as described above."""
    out = {}
    for q, (a0, b0, c0) in starts.items():
        stream, n = base.streams[q], c0 - b0
        if b0 - a0 != n or c0 + n > len(stream):
            return None
        rows = []
        for ua, ub, last in zip(stream[a0:b0], stream[b0:c0], stream[c0:c0 + n]):
            if not ua.opcode == ub.opcode == last.opcode or ua.values[:2] != ub.values[:2]:
                return None
            if ua.values == ub.values == last.values:  # most rows: nothing moves
                rows.append(())
                continue
            names = OPCODES[ub.opcode].format.operand_fields
            shifts = []
            for index in range(2, len(names)):
                a, v, c = ua.values[index], ub.values[index], last.values[index]
                if a == v == c:
                    continue
                step = v - a
                if c != v + (copies + 1) * step or not names[index].name.endswith("_addr"):
                    return None
                shifts.append((index, step))
            rows.append(tuple(shifts))
        out[q] = tuple(rows)
    return out


def _full_ops(ops_meta: list, first: int, end: int, copies: int, p: int, unit: dict) -> list:
    """The flat program's `ops` metadata: the lowered entries, the skipped units' entries
    (the second unit's, renamed and moved), and every later entry moved past the copies."""
    def moved(entry, j):
        return {**entry, "first": {q: v + j * unit[q] for q, v in entry["first"].items()}}
    skipped = [{**moved(e, j), "name": shifted_name(e["name"], j * p),
                "layer": None if e["layer"] is None else e["layer"] + j * p}
               for j in range(1, copies + 1) for e in ops_meta[first:end]]
    return ops_meta[:end] + skipped + [moved(e, copies) for e in ops_meta[end:]]
