"""A SIGKILLed sweep leaves no worker running; a second sweep to the same output is refused at
start with one line, and the first loses no rows."""
import csv
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import yaml

from hwsim.errors import HwsimError
from hwsim.sweep.lifetime import output_lock
from tests.sweep.test_resume import BIG

POINTS = 2000  # BIG: 40 clocks x 50 bandwidths


def _start(spec, out, workers):
    return subprocess.Popen([sys.executable, "-m", "hwsim", "sweep", str(spec), "-o", str(out),
                             "--workers", str(workers)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_rows(journal, proc, rows: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") > rows:
            return
        time.sleep(0.02)
    raise AssertionError("the sweep did not get going (or ended) before the test could act")


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_sigkill_of_a_sweep_leaves_no_live_worker_5_s_later(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(BIG, sort_keys=False))
    out = tmp_path / "out.csv"
    proc = _start(spec, out, workers=2)
    try:
        _wait_for_rows(tmp_path / "out.csv.partial", proc, 50)
        workers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)   # the parent only: no group kill, no cleanup
        proc.wait()
        time.sleep(5)
        assert _alive(workers) == []
    finally:
        for pid in _alive([c.pid for c in psutil.Process().children(recursive=True)]):
            os.kill(pid, signal.SIGKILL)


def test_second_sweep_to_the_same_output_is_refused_and_no_row_is_lost(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(BIG, sort_keys=False))
    out = tmp_path / "out.csv"
    first = _start(spec, out, workers=1)
    _wait_for_rows(tmp_path / "out.csv.partial", first, 20)
    second = _start(spec, out, workers=1)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2
    assert err == (f"hwsim: error: -o {out}: another sweep is writing this output (it holds "
                   f"{out}.lock); wait for it or choose another output\n")
    _, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [int(r[0]) for r in rows] == list(range(POINTS))
    assert not os.path.exists(f"{out}.lock")


def test_lock_is_released_after_an_error_and_reacquired(tmp_path):
    out = str(tmp_path / "out.csv")
    with pytest.raises(RuntimeError):
        with output_lock(out):
            with pytest.raises(HwsimError, match="another sweep is writing this output"):
                with output_lock(out):
                    pass
            raise RuntimeError("a sweep that fails")
    with output_lock(out):
        pass
    assert not os.path.exists(out + ".lock")
