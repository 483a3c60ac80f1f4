"""The spec: expansion by hand (grid order, ranges, random draws, workload lists), stable keys,
and every mistake reported as one line before any work."""
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from compiler.frontend import load_model
from hwsim.cli.main import main
from hwsim.errors import HwsimError
from hwsim.sweep.plan import build_plan, point_key
from hwsim.sweep.spec import parse_spec
from tests.sweep.conftest import hwsim_cli

BASE = {"models": ["tiny-llama"], "targets": ["flightllm-u280"],
        "workloads": [{"phase": "decode"}]}


def plan(**fields):
    return build_plan(parse_spec({**BASE, **fields}, "s.yaml"), load_model)


def test_grid_order_is_target_then_axes_last_fastest_then_model_then_workload():
    p = plan(models=["tiny-llama", "tiny-opt"],
             workloads=[{"phase": "decode", "batch": [1, 4]}],
             axes={"clocks.core.freq_hz": [1.0e8, 2.0e8], "units.sfu.lanes": [8, 16]})
    assert len(p.points) == 2 * 2 * 2 * 2
    first = p.points[0]
    assert (first.model, first.workload["batch"], first.overrides) == \
        ("tiny-llama", 1, {"clocks.core.freq_hz": 1.0e8, "units.sfu.lanes": 8})
    assert [pt.workload["batch"] for pt in p.points[:2]] == [1, 4]
    assert [pt.model for pt in p.points[:4]] == ["tiny-llama"] * 2 + ["tiny-opt"] * 2
    assert [pt.overrides["units.sfu.lanes"] for pt in p.points[::4]] == [8, 16, 8, 16]
    assert [pt.index for pt in p.points] == list(range(16))


def test_ranges_linear_and_geometric_by_hand():
    p = plan(axes={"units.sfu.lanes": {"from": 4, "to": 64, "num": 3, "log": True},
                   "clocks.core.freq_hz": {"from": 1.0e8, "to": 2.0e8, "num": 3}})
    lanes = sorted({pt.overrides["units.sfu.lanes"] for pt in p.points})
    clocks = sorted({pt.overrides["clocks.core.freq_hz"] for pt in p.points})
    assert lanes == [4, 16, 64]                      # 4 * 16 ** (0, 1/2, 1), integers
    assert clocks == [1.0e8, 1.5e8, 2.0e8]


def test_values_parse_as_set_does():
    # PyYAML reads 2e8 as text; --set reads it as a number, and so does the spec
    p = plan(axes={"clocks.core.freq_hz": ["2e8"]})
    assert p.points[0].overrides == {"clocks.core.freq_hz": 2e8}
    assert p.points[0].override_texts() == ("clocks.core.freq_hz=200000000.0",)


def test_random_sample_is_seeded_and_in_range():
    axes = {"clocks.core.freq_hz": {"from": 1.0e8, "to": 3.0e8},
            "units.sfu.lanes": [8, 16, 32]}
    a = plan(axes=axes, sample={"random": 20, "seed": 7})
    b = plan(axes=axes, sample={"random": 20, "seed": 7})
    c = plan(axes=axes, sample={"random": 20, "seed": 8})
    assert [p.key for p in a.points] == [p.key for p in b.points]
    assert [p.key for p in a.points] != [p.key for p in c.points]
    assert len(a.points) == 20
    for pt in a.points:
        assert 1.0e8 <= pt.overrides["clocks.core.freq_hz"] <= 3.0e8
        assert pt.overrides["units.sfu.lanes"] in (8, 16, 32)


def test_identical_points_are_kept_once():
    assert len(plan(axes={"units.sfu.lanes": [8, 8, 16]}).points) == 2


def test_key_is_sha256_of_the_canonical_inputs():
    p = plan(axes={"units.sfu.lanes": [8]}).points[0]
    blob = json.dumps({"model": "tiny-llama", "target": "flightllm-u280", "tier": "roofline",
                       "workload": p.workload, "set": {"units.sfu.lanes": 8}},
                      sort_keys=True, separators=(",", ":"))
    assert p.key == hashlib.sha256(blob.encode()).hexdigest()[:16]
    assert p.key == point_key("tiny-llama", "flightllm-u280", "roofline", dict(p.workload),
                              {"units.sfu.lanes": 8})


def test_per_target_axes_and_set():
    # top-level axes apply to every target; a target's own axes and set add to them
    p = plan(targets=["flightllm-u280",
                      {"target": "neupims", "set": {"clocks.npu.freq_hz": 5.0e8},
                       "axes": {"buffers.spad.size_bytes": [65536, 131072]}}],
             axes={"memories.hbm.bandwidth_bytes_per_s": [4.0e11]})
    assert [pt.target for pt in p.points] == ["flightllm-u280", "neupims", "neupims"]
    assert p.points[2].overrides == {"clocks.npu.freq_hz": 5.0e8,
                                     "memories.hbm.bandwidth_bytes_per_s": 4.0e11,
                                     "buffers.spad.size_bytes": 131072}
    # one column per key, in order of first appearance
    assert p.columns[14:17] == ("memories.hbm.bandwidth_bytes_per_s", "clocks.npu.freq_hz",
                                "buffers.spad.size_bytes")


@pytest.mark.parametrize("body, message", [
    ({"modles": ["tiny-llama"]},
     "s.yaml: unknown field 'modles' (fields: tier, models, targets, workloads, set, axes, "
     "sample, name, description)"),
    ({"axes": {"clocks.core.freqhz": [1.0e8]}},
     "s.yaml: targets[0]: axes.clocks.core.freqhz: unknown field 'freqhz' in clocks.core of "
     "target flightllm-u280 (fields: freq_hz, source)"),
    ({"workloads": [{"phase": "decode", "bacth": 4}]},
     "s.yaml: workloads[0]: unknown workload field 'bacth' (fields: phase, batch, seq, "
     "context, gen, quant, kv_bits, sparsity, layers)"),
    ({"workloads": [{"phase": "decode", "batch": 0}]},
     "s.yaml: workload batch=0: --batch must be >= 1, not 0"),
    ({"tier": "rtl"}, "s.yaml: tier 'rtl' is not one of roofline, cycle"),
    ({"axes": {"clocks.core.freq_hz": {"from": 1, "to": 2}}},
     "s.yaml: axes.clocks.core.freq_hz: a range needs num for a grid sample (or sample: "
     "{random: N, seed: S})"),
    ({"set": {"clocks.core.freq_hz": 0}},
     "s.yaml: targets[0]: flightllm-u280 with --set: clocks.core.freq_hz: Input should be "
     "greater than 0 (got 0)"),
])
def test_spec_mistakes_are_one_exact_line(body, message):
    with pytest.raises(HwsimError) as err:
        build_plan(parse_spec({**BASE, **body}, "s.yaml"), load_model)
    assert str(err.value) == message


def test_unknown_model_and_target_name_the_entry():
    with pytest.raises(HwsimError, match=r"^s.yaml: models\[0\]: unknown model 'llama9'"):
        plan(models=["llama9"])
    with pytest.raises(HwsimError, match=r"^s.yaml: targets\[0\]: unknown target 'tpu9'"):
        plan(targets=["tpu9"])


def test_typo_is_one_line_exit_2_before_any_work(spec_file, tmp_path, capsys):
    path = spec_file({**BASE, "axes": {"buffers.a_buf.size_byte": [1024]}})
    out = tmp_path / "out.csv"
    assert main(["sweep", path, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"hwsim: error: {path}: targets[0]: axes.buffers.a_buf.size_byte: unknown "
                   "field 'size_byte' in buffers.a_buf of target flightllm-u280 (fields: banks, "
                   "clock, holds, ports, size_bytes, source, width_bytes)\n")
    assert list(tmp_path.iterdir()) == [tmp_path / "spec.yaml"]   # no output, no .partial


def test_typo_through_the_real_command_line(spec_file, tmp_path):
    path = spec_file({**BASE, "axes": {"clocks.core.freqhz": [1.0e8]}})
    run = hwsim_cli("sweep", path, "-o", tmp_path / "out.csv")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "unknown field 'freqhz'" in run.stderr
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.partial").exists()


def test_the_docs_example_spec_is_valid():
    text = (Path(__file__).parents[2] / "docs" / "sweeps.md").read_text()
    body = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    p = build_plan(parse_spec(body, "docs/sweeps.md"), load_model)
    assert len(p.points) == 3 * 3 + 3 + 3
    assert {pt.target for pt in p.points} == {"flightllm-u280", "mllm-npu-sd8gen3", "a100"}
