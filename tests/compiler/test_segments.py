"""Segments (compiler.codegen.repeat, isa.compact.Segment): an attention kernel's repeated key
blocks stood for by copies inside a compact program; the same program and the same simulation
as the flat compile, and the verifier's refusals of broken segments."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hwsim
import isa
from compiler.codegen.compact import generate_compact
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model, lower
from hwsim.api.flows import run_model
from isa.compact import CompactProgram, Segment
from targets.loader import load_target, preset_names
from tests.compiler.same_program import same_program

LAYERS = 12  # tiny-llama's 2 layers repeated: units of layers are skipped too
SEQ = 512    # a100 / h100 prefill: query blocks of 2, 4, 6 and 8 key blocks of 64 keys


@pytest.fixture(scope="module")
def model():
    return replace(load_model("tiny-llama"), num_layers=LAYERS)


def _compile(model, preset, phase="prefill", seq=SEQ, **kwargs):
    workload = Workload(phase=phase, seq=seq, context=seq)
    return compile_model(model, workload, load_target(preset), **kwargs).program


def test_key_loops_are_segments(model):
    """tiny-llama prefill of 512 tokens on a100: 2 query heads per KV head, query blocks of
    256 rows (128 tokens), key blocks of 64: the four query blocks see 2, 4, 6 and 8 key
    blocks. Iteration 0 starts the accumulator and differs; 1 and 2 are units a and b; the
    last full block is unit c: blocks of 6 and 8 skip 2 and 4 key blocks, each 5
    instructions (LOAD K, MATMUL S, SOFTMAX, LOAD V, MATMUL PV). 8 layers are lowered (the
    first two, units [2, 4) and [4, 6), the last two)."""
    flat = _compile(model, "a100")
    compact = _compile(model, "a100", compact=True)
    assert sorted(s.copies for s in compact.segments) == [2] * 8 + [4] * 8
    assert all(sum(s.length(q) for q in isa.Queue) == 5 for s in compact.segments)
    graph = lower(model, Workload(phase="prefill", seq=SEQ, context=SEQ), load_target("a100"))
    plain = generate_compact(graph, load_target("a100"), segments=False)
    assert plain.segments == () and len(plain.base) - len(compact.base) == 8 * (2 + 4) * 5
    assert len(compact) == len(plain) == len(flat)
    same_program(compact, flat)


def test_matrix_m_tiles_are_segments(model):
    """flightllm-u280 prefill of 512 tokens: attention is not fused there; its score product
    runs 32 M tiles of 32 query rows (1,024 rows: 2 query heads per KV head). M tile 0 loads
    the K tile the others reuse; the two output slots alternate, so units are 2 M tiles:
    states before tiles 1, 3 and 5 alike, units [1, 3) and [3, 5) lowered, then
    (32 - 5) // 2 - 1 = 12 units skipped and the last unit [29, 31) and tile 31 lowered.
    The context product's 16 M tiles: (16 - 5) // 2 - 1 = 4 units skipped."""
    compact = _compile(model, "flightllm-u280", compact=True)
    products = [s for s in compact.segments if s.length(isa.Queue.MM)]  # (vector row tiles
    copies = sorted(s.copies for s in products)                         # are segments too)
    assert copies == [4] * 8 + [12] * 8  # 8 lowered layers, one score and one context each
    assert all(s.length(isa.Queue.MM) == 2 for s in products)  # one product per M tile
    same_program(compact, _compile(model, "flightllm-u280"))


def test_a_segment_that_fails_its_check_recompiles_without_segments(model, monkeypatch):
    """Where the emitted rows of a skipped stretch do not check out, the step is compiled
    again without segments: the layer units are still skipped, the program still exact."""
    import compiler.codegen.compact as compact_codegen
    real = compact_codegen._segments
    monkeypatch.setattr(compact_codegen, "_segments", lambda base, repeats, starts:
                        None if repeats else real(base, repeats, starts))
    compact = _compile(model, "a100", compact=True)
    assert isinstance(compact, CompactProgram) and compact.copies >= 1
    assert compact.segments == ()
    same_program(compact, _compile(model, "a100"))


@pytest.mark.parametrize("seq", [320, 400, 449, 513, 640])
@pytest.mark.parametrize("preset", ["a100", "h100", "flightllm-u280"])
def test_any_key_count_flattens_exactly(seq, preset, model):
    """Prompt lengths with and without a partial last key block or M tile, loops too short
    for a segment and long ones: flattening gives the flat compile, the arrays equal."""
    compact = _compile(model, preset, seq=seq, compact=True)
    assert compact.segments
    same_program(compact, _compile(model, preset, seq=seq))


@pytest.mark.parametrize("name", ["tiny-opt", "tiny-mixtral", "tiny-deepseek-v2"])
@pytest.mark.parametrize("preset", ["a100", "flightllm-u280"])
def test_other_layer_kinds_with_segments_flatten_exactly(name, preset):
    """LayerNorm + GELU (OPT), MoE experts (Mixtral), MLA + shared experts (DeepSeek-V2)
    at 512 tokens: loops are segments and flattening gives the flat compile."""
    model = replace(load_model(name), num_layers=LAYERS)
    compact = _compile(model, preset, compact=True)
    assert compact.segments
    same_program(compact, _compile(model, preset))


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("phase", ["prefill", "decode", "generate"])
def test_segments_and_flat_simulate_alike(preset, phase, model, monkeypatch):
    """`simulate --json` compiled compact (segments where the key loops repeat) equals the
    flat compile's, byte for byte, on every preset and phase."""
    kwargs = dict(phase=phase, seq=SEQ, context=SEQ, gen=2)
    monkeypatch.setattr(run_model, "COMPACT", False)
    flat = json.dumps(hwsim.simulate(model, preset, **kwargs).to_dict(), sort_keys=True)
    monkeypatch.setattr(run_model, "COMPACT", True)
    assert json.dumps(hwsim.simulate(model, preset, **kwargs).to_dict(), sort_keys=True) == flat


def test_hwx_of_a_program_with_segments_is_the_flat_program(model):
    compact = _compile(model, "a100", compact=True)
    flat = _compile(model, "a100")
    assert compact.segments and isa.to_bytes(compact) == isa.to_bytes(flat)
    assert isa.from_bytes(isa.to_bytes(compact)) == flat


# ---- the verifier refuses broken segments --------------------------------------------------

@pytest.fixture(scope="module")
def compact(model):
    target = load_target("a100")
    return _compile(model, "a100", compact=True), target.isa_resources()


def _with(program, k, **changes):
    segs = list(program.segments)
    segs[k] = replace(segs[k], **changes)
    return CompactProgram(program.base, program.template, program.copies, program.deltas,
                          program.metadata, tuple(segs))


def _load_row(program, k):
    """(queue, row within segment k, the dram_addr value index) of segment k's first LOAD."""
    q = isa.Queue.LD
    return q, 0, isa.OPCODES[isa.Opcode.LOAD].format.operand_index["dram_addr"]


def test_verify_accepts_segments(compact):
    program, resources = compact
    order = isa.verify(program, resources)
    probe = program.flatten(1, cap=1)  # one copy of the unit and of every segment
    assert len(order) == len(probe) < len(program)
    isa.verify(program.flatten(), resources)


def test_verify_refuses_a_segment_copy_outside_memory(compact):
    program, resources = compact
    k = max(range(len(program.segments)), key=lambda i: program.segments[i].copies)
    seg = program.segments[k]
    q, row, addr = _load_row(program, k)
    shifts = list(seg.deltas[q])
    shifts[row] = ((addr, resources.dram_bytes // seg.copies),)  # the last copy lands past
    with pytest.raises(isa.IsaError, match="overflows off-chip memory"):
        isa.verify(_with(program, k, deltas={**seg.deltas, q: tuple(shifts)}), resources)


def test_verify_refuses_a_negative_address(compact):
    program, resources = compact
    seg = program.segments[0]
    q, row, addr = _load_row(program, 0)
    value = program.base.streams[q][seg.rows[q][0] + row].values[addr]
    shifts = list(seg.deltas[q])
    shifts[row] = ((addr, -(value // seg.copies) - 1),)
    with pytest.raises(isa.IsaError, match="addresses must be >= 0"):
        isa.verify(_with(program, 0, deltas={**seg.deltas, q: tuple(shifts)}), resources)


def test_verify_refuses_a_moving_non_address_field(compact):
    program, resources = compact
    seg = program.segments[0]
    q, row, _ = _load_row(program, 0)
    rows = isa.OPCODES[isa.Opcode.LOAD].format.operand_index["rows"]
    shifts = list(seg.deltas[q])
    shifts[row] = ((rows, 1),)
    with pytest.raises(isa.IsaError, match=r"only address fields \(\*_addr\) may move"):
        isa.verify(_with(program, 0, deltas={**seg.deltas, q: tuple(shifts)}), resources)


def test_verify_refuses_an_unbalanced_segment(compact):
    """Segment rows [a, b) in LD widened by one row: the segment now holds a LOAD whose
    release has no wait inside it (every copy would give a token more than it takes)."""
    program, resources = compact
    seg = program.segments[0]
    q = isa.Queue.LD
    a, b = seg.rows[q]
    stream = program.base.streams[q]
    extra = next(r for r in range(b, len(stream)) if stream[r]["release"])
    wider = {**seg.rows, q: (a, extra + 1)}
    deltas = {**seg.deltas, q: seg.deltas[q] + ((),) * (extra + 1 - b)}
    bad = _with(program, 0, rows=wider, deltas=deltas)
    with pytest.raises(isa.IsaError, match="segment 0 is unbalanced on LD->"):
        isa.verify(bad, resources)


def test_verify_refuses_misplaced_segments(compact):
    program, resources = compact
    seg, other = program.segments[0], program.segments[1]
    q = isa.Queue.LD
    n = len(program.base.streams[q])
    with pytest.raises(isa.IsaError, match="lie outside"):
        isa.verify(_with(program, 0, rows={**seg.rows, q: (n - 1, n + 1)},
                         deltas={**seg.deltas, q: ((), ())}), resources)
    with pytest.raises(isa.IsaError, match="overlap"):
        isa.verify(_with(program, 1, rows=seg.rows, deltas=seg.deltas,
                         copies=other.copies), resources)
    inner = next(s for s in program.segments if program.inside(s))
    k = program.segments.index(inner)
    start = program.template[q][0]
    straddle = {**inner.rows, q: (start - 1, start + 1)}
    with pytest.raises(isa.IsaError, match="straddle"):
        isa.verify(_with(program, k, rows=straddle, deltas={**inner.deltas, q: ((), ())}),
                   resources)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(0, 15), copies=st.integers(0, 40),
       step=st.integers(-(1 << 20), 1 << 34))
def test_a_verified_compact_program_flattens_to_a_verified_one(compact, k, copies, step):
    """Any number of copies and any dram_addr step of a segment's first LOAD: when the
    compact verifier accepts, the flat program it stands for passes isa.verify, and when
    the flat program fails, the compact verifier refuses."""
    program, resources = compact
    seg = program.segments[k]
    q, row, addr = _load_row(program, k)
    shifts = list(seg.deltas[q])
    shifts[row] = ((addr, step),)
    tampered = _with(program, k, copies=copies, deltas={**seg.deltas, q: tuple(shifts)})
    try:
        isa.verify(tampered, resources)
    except isa.IsaError:
        accepted = False
    else:
        accepted = True
    flat = tampered.flatten()
    try:
        isa.verify(flat, resources)
    except isa.IsaError:
        assert not accepted
    else:
        low = min(i.values[addr] for i in flat.streams[q] if i.opcode == isa.Opcode.LOAD)
        assert accepted == (low >= 0)  # flat verify has no lower bound: fields are unsigned
