"""Rows survive a kill: SIGKILL mid-sweep, resume, every point exactly once; torn lines and
rows of another spec on resume; Parquet output."""
import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from hwsim.errors import HwsimError
from tests.sweep.conftest import sweep

BIG = {"tier": "roofline", "models": ["tiny-llama"], "targets": ["flightllm-u280"],
       "workloads": [{"phase": "decode"}],
       "axes": {"clocks.core.freq_hz": {"from": 1.0e8, "to": 3.0e8, "num": 40},
                "memories.hbm.bandwidth_bytes_per_s": {"from": 1.0e11, "to": 1.0e12,
                                                       "num": 50}}}
SMALL = {**BIG, "axes": {"clocks.core.freq_hz": [1.0e8, 2.0e8, 3.0e8]}}


def lines(path):
    with open(path, "rb") as handle:
        return handle.read().split(b"\n")


def table(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_sigkill_mid_run_then_resume_has_every_point_once(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(BIG, sort_keys=False))
    out, journal = tmp_path / "out.csv", tmp_path / "out.csv.partial"
    proc = subprocess.Popen([sys.executable, "-m", "hwsim", "sweep", str(spec), "-o", str(out),
                             "--workers", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and len(lines(journal)) > 200:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()                 # the output appears only complete
    before = [x for x in lines(journal)[1:-1]]
    assert 200 <= len(before) < 2000
    with open(journal, "ab") as handle:     # as if the kill had torn the last row
        handle.write(b"1999,deadbeef,tiny-llama,flightl")
    summary = sweep(spec, out, workers=2, resume=True)
    assert summary.skipped == len(before) and summary.ran == 2000 - len(before)
    assert summary.dropped == 1
    final = table(out)
    assert [int(r[0]) for r in final[1:]] == list(range(2000))
    assert len({r[1] for r in final[1:]}) == 2000
    assert not journal.exists()
    body = set(lines(out))
    assert all(row in body for row in before)   # rows written before the kill are kept as is


def test_resume_of_a_finished_sweep_runs_nothing(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    sweep(spec, tmp_path / "out.csv", workers=1)
    first = (tmp_path / "out.csv").read_bytes()
    again = sweep(spec, tmp_path / "out.csv", workers=1, resume=True)
    assert (again.ran, again.skipped) == (0, 3)
    assert (tmp_path / "out.csv").read_bytes() == first


def test_resume_with_a_grown_spec_runs_only_the_new_points(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    sweep(spec, tmp_path / "out.csv", workers=1)
    grown = {**SMALL, "axes": {"clocks.core.freq_hz": [5.0e7, 1.0e8, 2.0e8, 3.0e8]}}
    spec.write_text(yaml.safe_dump(grown, sort_keys=False))
    summary = sweep(spec, tmp_path / "out.csv", workers=1, resume=True)
    assert (summary.ran, summary.skipped) == (1, 3)
    got = table(tmp_path / "out.csv")
    assert [r[0] for r in got[1:]] == ["0", "1", "2", "3"]   # renumbered in spec order
    assert got[1][14] == "50000000.0"


def test_resume_refuses_rows_of_another_spec(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    sweep(spec, tmp_path / "out.csv", workers=1)
    fewer = {**SMALL, "axes": {"clocks.core.freq_hz": [1.0e8]}}
    spec.write_text(yaml.safe_dump(fewer, sort_keys=False))
    with pytest.raises(HwsimError, match=r"out.csv: 2 rows are not points of this spec"):
        sweep(spec, tmp_path / "out.csv", workers=1, resume=True)


def test_invalid_points_are_error_rows_in_the_cycle_tier(tmp_path):
    body = {"tier": "cycle", "models": ["tiny-llama"], "targets": ["neupims"],
            "workloads": [{"phase": "decode", "context": 16}],
            "axes": {"memories.hbm.capacity_bytes": [4096, 34359738368],
                     "buffers.spad.size_bytes": [0, 65536]}}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(body, sort_keys=False))
    summary = sweep(spec, tmp_path / "out.csv", workers=1)
    got = table(tmp_path / "out.csv")
    head, rows = got[0], got[1:]
    errors = [r[head.index("error")] for r in rows]
    assert summary.errors == 3
    assert errors[0] == errors[2] == ("neupims with --set: buffers.spad.size_bytes: Input "
                                      "should be greater than 0 (got 0)")
    assert errors[1].startswith("tiny-llama does not fit neupims: it needs")
    assert errors[3] == ""
    assert float(rows[3][head.index("energy_j")]) > 0


def test_parquet_output_and_resume(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    sweep(spec, tmp_path / "out.parquet", workers=1)
    sweep(spec, tmp_path / "out.csv", workers=1)
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.column("point").to_pylist() == [0, 1, 2]
    assert str(t.schema.field("tokens_per_s").type) == "double"
    assert str(t.schema.field("energy_j").type) == "double"     # empty in the roofline tier
    csv_rows = table(tmp_path / "out.csv")
    head = csv_rows[0]
    assert t.column("tokens_per_s").to_pylist() == \
        [float(r[head.index("tokens_per_s")]) for r in csv_rows[1:]]
    again = sweep(spec, tmp_path / "out.parquet", workers=1, resume=True)
    assert (again.ran, again.skipped) == (0, 3)
