"""Whole-program simulation: DESIGN.md's JSON fields, energy that adds up, determinism, and the
roofline invariant for every zoo model x preset x phase tried."""
import json

import numpy as np
import math

import pytest

import isa
import targets
from compiler.frontend import load_model, zoo_names
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.simulate import simulate_program

DESIGN_FIELDS = ("model", "target", "phase", "batch", "seq", "context", "quant", "cycles",
                 "seconds", "tokens_per_s", "energy_j", "joules_per_token", "tokens_per_joule",
                 "energy_breakdown_j", "bytes", "utilization", "roofline_seconds", "bound",
                 "instructions")
TARGETS = {n: targets.load_target(n) for n in targets.preset_names()}


def simulate(model, target, **kw):
    t = TARGETS[target]
    c = compile_model(load_model(model), Workload(**kw), t)
    return c, simulate_program(c.program, t, 1)


def test_simulate_json_has_every_design_field_and_is_deterministic(hwsim):
    args = ("simulate", "tiny-llama", "-t", "flightllm-u280", "--json", "--context", "16")
    first, second = hwsim(*args), hwsim(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    for field in DESIGN_FIELDS:
        assert field in data, field
    assert math.isclose(sum(data["energy_breakdown_j"].values()), data["energy_j"],
                        rel_tol=1e-12)
    assert set(data["energy_breakdown_j"]) >= {"compute", "sram", "dram", "pim", "static"}
    assert data["tokens_per_joule"] == pytest.approx(1 / data["joules_per_token"])


def test_generate_reports_ttft_and_tpot(hwsim):
    out = hwsim("simulate", "tiny-llama", "-t", "a100", "--phase", "generate", "--seq", "16",
                "--gen", "8", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["ttft_s"] > 0 and data["tpot_s"] > 0
    assert data["seconds"] == pytest.approx(data["ttft_s"] + 8 * data["tpot_s"])
    assert math.isclose(sum(data["energy_breakdown_j"].values()), data["energy_j"],
                        rel_tol=1e-12)


def test_static_energy_is_power_times_time_by_hand():
    _, r = simulate("tiny-llama", "flightllm-u280", phase="decode", context=8)
    assert r["energy_breakdown_j"]["static"] == pytest.approx(39.0 * r["seconds"])


def test_dram_energy_by_hand_on_neupims():
    c, r = simulate("tiny-llama", "neupims", phase="decode", context=8)
    moved_read = r["bytes"]["dram_read"]
    moved_write = r["bytes"]["dram_write"]
    # per byte 12.56 / 16.69 pJ plus 828 pJ per row activation the bank model counted
    expected = (moved_read * 12.56 + moved_write * 16.69 +
                r["dram"]["activations"] * 828.0) * 1e-12
    assert r["energy_breakdown_j"]["dram"] == pytest.approx(expected)


def test_a_program_for_another_target_description_is_refused(tmp_path):
    c, _ = simulate("tiny-llama", "a100", phase="decode", context=8)
    other = targets.load_target("a100", ["clocks.sm.freq_hz=1e9"])
    from hwsim.errors import HwsimError
    with pytest.raises(HwsimError, match="different description of a100"):
        simulate_program(c.program, other, 1)


def _cases():
    for model in zoo_names():
        for target in TARGETS:
            for phase in ("prefill", "decode"):
                heavy = target == "neupims" and not model.startswith("tiny")
                marks = [pytest.mark.slow] if heavy or model == "gpt3-175b" else []
                yield pytest.param(model, target, phase, marks=marks,
                                   id=f"{model}-{target}-{phase}")


@pytest.mark.parametrize("model, target, phase", list(_cases()))
def test_roofline_never_exceeds_simulated_time(model, target, phase):
    kw = dict(phase=phase, seq=32, context=32, layers=1)
    try:
        _, r = simulate(model, target, **kw)
    except Exception as err:  # a refusal is fine here; the compile tests hold its contract
        assert "does not fit" in str(err) or "no unit" in str(err), err
        return
    assert r["roofline_seconds"] <= r["seconds"] * (1 + 1e-9)
    d = r["_detail"]
    a, busy_end, busy_start = d["arrays"], d["end"], d["start"]
    for k, name in enumerate(a.op_names):
        sel = a.op_index == k
        if sel.any():
            span = busy_end[sel].max() - busy_start[sel].min()
            assert d["roofline"]["per_op_s"][name] <= span * (1 + 1e-9), name
    assert isa.WORD_BYTES == 32


def test_in_flight_seconds_is_the_union_of_intervals():
    from hwsim.simulate import in_flight_seconds
    s = np.array([0.0, 1.0, 3.0, 3.5, 10.0])
    e = np.array([2.0, 3.0, 4.0, 3.6, 11.0])
    # [0, 3) + [3, 4) + [10, 11) by hand
    assert in_flight_seconds(s, e) == 5.0
    assert in_flight_seconds(np.array([0.0, 1.0]), np.array([5.0, 2.0])) == 5.0
    assert in_flight_seconds(np.array([]), np.array([])) == 0.0


def test_no_utilization_exceeds_one_when_loads_and_stores_overlap():
    from compiler.ir.workload import Workload
    from hwsim.api.flows.run_model import simulate_model
    r = simulate_model("llama2-7b", Workload(phase="prefill", seq=512, layers=1),
                       targets.load_target("h100"))
    assert r["utilization"]["memory"] <= 1.0
    assert all(0.0 <= u <= 1.0 for u in r["utilization"].values())


def test_pim_energy_counts_one_gwrite_per_global_buffer_segment():
    """n = 1024 keys, NeuPIMs HBM: 32 channels x 32 banks, 1 KiB rows, 16 multipliers per bank,
    so a query segment holds 32 x 16 = 512 fp16 elements. By hand, for k = 512 (one segment):
    each bank holds 1024 x 512 / 1024 = 512 elements = one row; GWRITE 32 channels x 12,864 pJ,
    grouped ACT 1 row x 32 / 4 groups x 32 channels x 3,312 pJ, DOTPRODUCT 512 / 16 = 32 x 32
    channels x 3,216 pJ, one result readout (1 output per bank x 1 head x 1 segment) x 32
    channels x 804 pJ (a read burst). k = 1024 is two segments: every command twice (the old
    count, one GWRITE per query, would give one GWRITE less)."""
    from hwsim.energy import pim_energy
    from hwsim.program_arrays import flatten
    target = targets.load_target("neupims")
    energy = {}
    for k in (512, 1024):
        instr = isa.Instruction("PIM_GEMV", m=1, n=1024, k=k, count=1, wgt_buf=15,
                                dtype_act="fp16", dtype_wgt="fp16", dtype_out="fp16")
        program = isa.Program.from_instructions(target.name, [instr])
        energy[k] = pim_energy(flatten(program), target)
    one_segment_pj = 32 * 12864 + 1 * 8 * 32 * 3312 + 32 * 32 * 3216 + 32 * 804
    assert energy[512] == pytest.approx(one_segment_pj * 1e-12, rel=1e-12)
    assert energy[1024] == pytest.approx(2 * one_segment_pj * 1e-12, rel=1e-12)
