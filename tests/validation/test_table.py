"""The validation table (hwsim/validation/*.yaml): every row loads and names its source, the
loader rejects a bad row with one line naming the field, the value and the limit, and the summary
arithmetic (median |error|, worst row, calibration rows left out) matches a hand calculation."""
import copy
import json

import pytest
import yaml

from hwsim.api.flows.validation import validate
from hwsim.errors import HwsimError
from hwsim.validation import load_rows, load_table, table_paths

ROWS = load_rows()


def test_at_least_30_validation_rows_with_sources():
    validation = [r for r in ROWS if r.use == "validation"]
    assert len(validation) >= 30
    assert all(r.source.strip() for r in ROWS)


def test_every_row_has_a_source_that_names_where_to_look():
    for r in ROWS:
        assert any(mark in r.source for mark in ("http", ":", "benchmarks/", "arXiv")), r.id


def test_the_three_reference_systems_and_four_gpu_cards_are_covered():
    targets = {r.target for r in ROWS}
    assert {"h100", "a100-80gb", "flightllm-u280", "mllm-npu-sd8gen3"} <= targets


def test_measured_values_are_copied_as_published():
    # spot checks against the sources, read by hand (README / JSON / performance.md)
    by_id = {r.id: r for r in ROWS}
    assert by_id["a100-80gb-gptfast-llama2-7b-bf16-b1"].value == 104.9
    assert by_id["a100-80gb-trtllm061-llama2-7b-fp16-b384-128-128"].value == 5586
    assert by_id["h100-llama2-7b-compiled-decode-b1-c128"].value == 170.5
    assert by_id["a100-80gb-trtllm080-llama2-7b-fp16-ttft-2048"].measured_si == pytest.approx(
        0.1205)


def test_h100_rows_equal_the_measurement_file():
    data = json.load(open("benchmarks/gpu/h100_measured.json"))
    by_id = {r.id: r for r in ROWS}
    for stack, tag in (("compiled", "compiled"), ("graph", "graph"), ("hf_eager", "eager")):
        for e in data[stack]["decode"]:
            assert by_id[f"h100-llama2-7b-{tag}-decode-b1-c{e['context']}"].value == \
                e["tokens_per_s"]
        for e in data[stack]["prefill"]:
            assert by_id[f"h100-llama2-7b-{tag}-prefill-{e['seq']}"].value == e["ms"]


GOOD = {"id": "x-1", "use": "validation", "measured": {"value": 10.0, "unit": "token/s"},
        "metric": "tokens_per_s",
        "setup": {"model": "m", "precision": "fp16", "hardware": "h", "batch": 1, "stack": "s",
                  "stack_kind": "eager"},
        "simulate": {"model": "tiny-llama", "target": "h100",
                     "workload": {"phase": "decode"}},
        "source": "https://example.org/bench, Table 1"}


def _write(tmp_path, rows):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"rows": rows}))
    return path


def _bad(change):
    row = copy.deepcopy(GOOD)
    change(row)
    return row


BAD = [
    (lambda r: r.pop("source"), "row x-1: source = None: must be non-empty text"),
    (lambda r: r.update(source="somewhere"), "row x-1: source = 'somewhere': must name a URL"),
    (lambda r: r["measured"].update(value=-3),
     "row x-1: measured.value = -3: must be a number > 0"),
    (lambda r: r["measured"].update(unit="ms"),
     "row x-1: measured.unit = 'ms' does not measure metric tokens_per_s (in token/s)"),
    (lambda r: r.update(use="fit"), "row x-1: use = 'fit': must be one of calibration, validation"),
    (lambda r: r.update(tolerance_fraction=0),
     "row x-1: tolerance_fraction = 0: must be in (0, 1]"),
    (lambda r: r.update(speed=3), "row x-1: unknown field 'speed'"),
    (lambda r: r["setup"].update(batch=0), "row x-1: setup.batch = 0: must be an integer >= 1"),
    (lambda r: r["setup"].update(stack_kind="jit"), "row x-1: setup: stack_kind = 'jit'"),
    (lambda r: r["simulate"].update(kernel={"kind": "gemm"}),
     "row x-1: simulate needs exactly one of workload or kernel"),
    (lambda r: r.update(id="X 1"), "id 'X 1' must be lower-case"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_loader_rejects_a_bad_row_with_one_line(tmp_path, change, message):
    with pytest.raises(HwsimError) as err:
        load_table(_write(tmp_path, [_bad(change)]))
    text = str(err.value)
    assert "\n" not in text and text.startswith("validation table t.yaml row ")
    assert message in text


def test_loader_accepts_the_good_row_and_rejects_a_duplicate_id(tmp_path):
    assert load_table(_write(tmp_path, [GOOD]))[0].measured_si == 10.0
    with pytest.raises(HwsimError, match="row x-1: id already used in t.yaml"):
        load_rows([_write(tmp_path, [GOOD, GOOD])])


def _fake_rows(tmp_path):
    def row(rid, use, target, value, unit="token/s", metric="tokens_per_s"):
        r = copy.deepcopy(GOOD)
        r.update(id=rid, use=use, metric=metric, measured={"value": value, "unit": unit})
        r["simulate"]["target"] = target
        return r
    return load_rows([_write(tmp_path, [
        row("a", "validation", "h100", 100.0),         # simulated 110: +10 %
        row("b", "validation", "h100", 200.0),         # simulated 110: -45 %
        row("c", "validation", "a100", 10.0, "ms", "seconds"),  # 0.0125 s: +25 %
        row("d", "calibration", "h100", 1.0),          # simulated 110: +10,900 %, not counted
    ])])


SIMULATED = {"a": {"tokens_per_s": 110.0}, "b": {"tokens_per_s": 110.0},
             "c": {"seconds": 0.0125}, "d": {"tokens_per_s": 110.0}}


def test_summary_by_hand(tmp_path):
    report = validate(rows=_fake_rows(tmp_path), simulate=lambda r: SIMULATED[r.id])
    s = report["summary"]
    # |errors| of the validation rows: 0.10, 0.45, 0.25 -> median 0.25, worst b
    assert s["overall"]["rows"] == 3
    assert s["overall"]["median_abs_error_fraction"] == pytest.approx(0.25)
    assert s["overall"]["worst_id"] == "b"
    assert s["overall"]["worst_error_fraction"] == pytest.approx(-0.45)
    assert s["per_target"]["h100"]["median_abs_error_fraction"] == pytest.approx(0.275)
    assert s["per_target"]["a100"]["worst_id"] == "c"
    by_id = {r["id"]: r for r in report["rows"]}
    assert by_id["c"]["simulated"] == pytest.approx(12.5)  # back in the published unit (ms)
    assert [by_id[k]["status"] for k in "abcd"] == ["within", "outside", "within", "outside"]
    assert s["counts"]["calibration_outside"] == 1


def test_a_refused_row_is_reported_not_dropped(tmp_path):
    def sim(row):
        if row.id == "b":
            raise HwsimError("llama2-7b does not fit")
        return SIMULATED[row.id]
    report = validate(rows=_fake_rows(tmp_path), simulate=sim)
    b = {r["id"]: r for r in report["rows"]}["b"]
    assert b["status"] == "refused" and b["reason"] == "llama2-7b does not fit"
    assert report["summary"]["overall"]["rows"] == 2
    assert report["summary"]["counts"]["validation_refused"] == 1


def test_only_selects_rows_and_rejects_unknown_ids(tmp_path):
    rows = _fake_rows(tmp_path)
    report = validate("c,a", rows=rows, simulate=lambda r: SIMULATED[r.id])
    assert [r["id"] for r in report["rows"]] == ["a", "c"]
    with pytest.raises(HwsimError, match="unknown validation row id"):
        validate("zz", rows=rows, simulate=lambda r: SIMULATED[r.id])


def test_cli_unknown_row_is_one_line_exit_2(hwsim):
    out = hwsim("validate", "--only", "no-such-row")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "hwsim: error: unknown validation row id(s) no-such-row (see hwsim validate --json for "
        "the ids)"]


def test_cli_json_is_byte_identical_across_runs(hwsim):
    row = "h100-kernel-gemm-fp16-1x4096x11008"  # one small kernel: a few seconds
    first, second = (hwsim("validate", "--json", "--only", row) for _ in range(2))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    record = json.loads(first.stdout)["rows"][0]
    assert record["measured"] == 0.03514 and record["unit"] == "ms"


def test_table_files_ship_as_package_data():
    assert [p.name for p in table_paths()] == ["a100.yaml", "a100_40gb.yaml", "gpu_gemm.yaml",
                                               "h100_measured.yaml", "reference_systems.yaml",
                                               "v100.yaml"]
