"""Compact programs (compiler.codegen.compact, isa.compact): the same program as the flat
compile, and the same simulation, on every preset and phase."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

import hwsim
import isa
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.api.flows import run_model
from isa.compact import CompactProgram
from targets.loader import load_target, preset_names
from tests.compiler.same_program import same_program

LAYERS = 12  # tiny-llama's 2 layers repeated: enough for units to be skipped


@pytest.fixture(scope="module")
def model():
    return replace(load_model("tiny-llama"), num_layers=LAYERS)


def _json(result) -> str:
    return json.dumps(result.to_dict(), sort_keys=True)


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("phase", ["prefill", "decode", "generate"])
def test_compact_and_flat_simulate_alike(preset, phase, model, monkeypatch):
    """`simulate --json` of a run compiled compact equals the run compiled flat, byte for
    byte (cycles, seconds, energy, bytes, utilization, DRAM statistics)."""
    kwargs = dict(phase=phase, seq=48, context=40, gen=4)
    monkeypatch.setattr(run_model, "COMPACT", False)
    flat = _json(hwsim.simulate(model, preset, **kwargs))
    monkeypatch.setattr(run_model, "COMPACT", True)
    assert _json(hwsim.simulate(model, preset, **kwargs)) == flat


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_compact_flattens_to_the_flat_program(preset, phase, model):
    """Where the layers repeat the compiler skips units, and flattening gives back the flat
    compile's instructions and metadata exactly; the arrays the engine reads are equal."""
    target = load_target(preset)
    workload = Workload(phase=phase, seq=48, context=40)
    flat = compile_model(model, workload, target).program
    compact = compile_model(model, workload, target, compact=True).program
    if preset == "neupims" and phase == "decode":  # channel-local PIM state never repeats
        pytest.skip("no compact form")  # (checked: compact is then the flat Program)
    assert isinstance(compact, CompactProgram) and compact.copies >= 1
    assert len(compact.base) < len(flat) == len(compact)
    same_program(compact, flat)


def test_llama2_decode_skips_most_layers():
    """LLaMA2-7B decode on U280: 32 layers, the state repeats every layer from boundary 1 on
    (the embedding, read by layer 0 alone, is no state once layer 0 is lowered): layer 0, the
    units of layers 1 and 2 and the last layer are lowered, 32 - 4 = 28 copies skipped; the
    short program holds under a fifth of the instructions."""
    target = load_target("flightllm-u280")
    compact = compile_model(load_model("llama2-7b"), Workload(phase="decode", context=512),
                            target, compact=True).program
    assert compact.copies == 28 and len(compact) == 7299
    assert len(compact.base) == 7299 - 28 * sum(compact.unit_rows(q) for q in isa.Queue)


@pytest.fixture(scope="module")
def compact(model):
    target = load_target("a100")
    program = compile_model(model, Workload(phase="decode", context=40), target,
                            compact=True).program
    return program, target.isa_resources()


def _tampered(program, q, row, shifts):
    deltas = dict(program.deltas)
    rows = list(deltas[q])
    rows[row] = shifts
    deltas[q] = tuple(rows)
    return CompactProgram(program.base, program.template, program.copies, deltas,
                          program.metadata)


def test_verify_accepts_the_compact_form(compact):
    program, resources = compact
    order = isa.verify(program, resources)  # the issue order of base + one copy
    assert len(order) == len(program.base) + sum(program.unit_rows(q) for q in isa.Queue)
    isa.verify(program.flatten(), resources)


def test_verify_refuses_a_moving_non_address_field(compact):
    program, resources = compact
    q = isa.Queue.LD
    instr = program.base.streams[q][program.template[q][0]]
    rows = isa.OPCODES[instr.opcode].format.operand_index["rows"]
    with pytest.raises(isa.IsaError, match=r"only address fields \(\*_addr\) may move"):
        isa.verify(_tampered(program, q, 0, ((rows, 1),)), resources)


def test_verify_refuses_a_last_copy_outside_memory(compact):
    program, resources = compact
    q = isa.Queue.LD
    instr = program.base.streams[q][program.template[q][0]]
    addr = isa.OPCODES[instr.opcode].format.operand_index["dram_addr"]
    step = resources.dram_bytes // program.copies  # the last copy lands past the end
    with pytest.raises(isa.IsaError, match="overflows off-chip memory"):
        isa.verify(_tampered(program, q, 0, ((addr, step),)), resources)


def test_verify_refuses_an_unbalanced_unit(compact):
    """The short program stays balanced (a late LOAD takes the extra token), but every
    copy of the unit would give LD one token more than it takes."""
    program, resources = compact
    vec, ld = isa.Queue.VEC, isa.Queue.LD
    start, end = program.template[vec]
    assert end > start
    streams = dict(program.base.streams)
    rows, loads = list(streams[vec]), list(streams[ld])
    r = next(r for r in range(start, end) if ld not in rows[r]["release"])
    rows[r] = rows[r].replace(release=sorted(rows[r]["release"] | {ld}))
    w = next(w for w in reversed(range(len(loads))) if vec not in loads[w]["wait"])
    loads[w] = loads[w].replace(wait=sorted(loads[w]["wait"] | {vec}))
    streams[vec], streams[ld] = rows, loads
    base = isa.Program(program.base.target_name, program.base.target_fingerprint, streams,
                       program.base.metadata)
    isa.verify(base, resources)
    bad = CompactProgram(base, program.template, program.copies, program.deltas,
                         program.metadata)
    with pytest.raises(isa.IsaError, match="repeated unit is unbalanced on VEC->LD"):
        isa.verify(bad, resources)


@pytest.mark.parametrize("layers", [2, 9, 10, 11, 12, 13, 16])
@pytest.mark.parametrize("preset,phase", [("a100", "prefill"), ("flightllm-u280", "decode"),
                                          ("neupims", "prefill")])
def test_any_layer_count_flattens_exactly(layers, preset, phase):
    """Layer counts around the first skippable one. tiny-llama's state repeats every second
    layer from the first boundary, so units [1, 3) and [3, 5) are lowered, then at least one
    skipped unit and the last: 9 layers and up (odd and even remainders, 1-4 copies); with
    fewer the compile is the flat Program itself."""
    model = replace(load_model("tiny-llama"), num_layers=layers)
    target = load_target(preset)
    workload = Workload(phase=phase, seq=40, context=40)
    flat = compile_model(model, workload, target).program
    compact = compile_model(model, workload, target, compact=True).program
    if layers < 9:
        assert isinstance(compact, isa.Program) and compact == flat
        return
    assert compact.copies == (layers - 5) // 2 - 1
    again = compact.flatten()
    assert again.streams == flat.streams and again.metadata == flat.metadata


def test_hwx_and_asm_of_a_compact_program_are_the_flat_programs(compact, model):
    """The container and the assembler write the flat program: the same bytes and text as
    the flat compile's, and reading them back gives that Program."""
    program, _ = compact
    flat = compile_model(model, Workload(phase="decode", context=40), load_target("a100")).program
    assert isa.to_bytes(program) == isa.to_bytes(flat)
    assert isa.from_bytes(isa.to_bytes(program)) == flat
    assert isa.disassemble(program) == isa.disassemble(flat)


@pytest.mark.parametrize("name", ["tiny-opt", "tiny-mixtral", "tiny-deepseek-v2"])
@pytest.mark.parametrize("preset,phase", [("a100", "prefill"), ("flightllm-u280", "decode")])
def test_other_layer_kinds_flatten_exactly(name, preset, phase):
    """LayerNorm + GELU (OPT), MoE experts (Mixtral), MLA + shared experts (DeepSeek-V2):
    units are skipped and flattening gives the flat compile."""
    model = replace(load_model(name), num_layers=LAYERS)
    target = load_target(preset)
    workload = Workload(phase=phase, seq=40, context=40)
    flat = compile_model(model, workload, target).program
    compact = compile_model(model, workload, target, compact=True).program
    assert isinstance(compact, CompactProgram) and compact.copies >= 1
    again = compact.flatten()
    assert again.streams == flat.streams and again.metadata == flat.metadata
