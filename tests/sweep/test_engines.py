"""Same spec, same rows, whichever engine: in-process, a local process pool, a dask
LocalCluster. A 200-point roofline sweep with 40 invalid points (clock 0 Hz)."""
import csv

import pytest

from tests.sweep.conftest import sweep

SPEC = {"tier": "roofline", "models": ["llama2-7b", "tiny-llama"],
        "targets": ["flightllm-u280"],
        "workloads": [{"phase": "decode", "batch": [1, 8], "context": 512}],
        "axes": {"clocks.core.freq_hz": [0, 1.5e8, 2.25e8, 3.0e8, 4.5e8],
                 "memories.hbm.bandwidth_bytes_per_s": {"from": 1.0e11, "to": 1.0e12,
                                                        "num": 10}}}


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    spec = folder / "spec.yaml"
    import yaml
    spec.write_text(yaml.safe_dump(SPEC, sort_keys=False))
    summary = sweep(spec, folder / "w1.csv", workers=1)
    return spec, folder, summary, rows(folder / "w1.csv")


def test_two_hundred_points_in_order_with_error_rows(reference):
    _, _, summary, table = reference
    header, body = table[0], table[1:]
    assert (summary.points, summary.ran, summary.errors) == (200, 200, 40)
    assert [int(r[0]) for r in body] == list(range(200))
    assert len({r[1] for r in body}) == 200
    error = header.index("error")
    failed = [r for r in body if r[error]]
    assert {r[header.index("clocks.core.freq_hz")] for r in failed} == {"0"}
    assert failed[0][error] == ("flightllm-u280 with --set: clocks.core.freq_hz: Input should "
                                "be greater than 0 (got 0)")
    ok = [r for r in body if not r[error]]
    assert all(float(r[header.index("tokens_per_s")]) > 0 for r in ok)


def test_process_pool_gives_identical_rows(reference, tmp_path):
    spec, _, _, table = reference
    sweep(spec, tmp_path / "w2.csv", workers=2)
    got = rows(tmp_path / "w2.csv")
    assert got == table                     # sorted by point, so equal as lists and as sets


def test_dask_local_cluster_gives_identical_rows(reference, tmp_path):
    pytest.importorskip("distributed")
    spec, _, _, table = reference
    sweep(spec, tmp_path / "dask.csv", dask="local:2")
    got = rows(tmp_path / "dask.csv")
    assert {tuple(r) for r in got} == {tuple(r) for r in table}
    assert got == table


def test_dask_address_of_an_existing_scheduler(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    spec, _, _, table = reference
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        sweep(spec, tmp_path / "remote.csv", dask=cluster.scheduler_address)
    assert rows(tmp_path / "remote.csv") == table
