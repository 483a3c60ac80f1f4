"""Where points run. Every engine calls `evaluate.evaluate_chunk` on chunks of points and yields
its results, [(point index, result fields)], in the order chunks finish.

- local (default): `--workers 1` runs in this process; N > 1 a concurrent.futures process
  pool (see `pool_context`).
- `--dask local:N`: a dask.distributed LocalCluster on this machine (N worker processes, one
  thread each, listening on 127.0.0.1 only).
- `--dask ADDRESS`: an existing scheduler (e.g. tcp://10.0.0.5:8786); its workers need the
  same version of hwsim installed.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, ProcessPoolExecutor, wait

from hwsim.errors import HwsimError
from hwsim.sweep.evaluate import error_text, evaluate_chunk
from hwsim.sweep.lifetime import die_with_parent

IN_FLIGHT_PER_WORKER = 4     # chunks queued per worker: keeps workers busy, bounds memory
CONNECT_TIMEOUT_S = 20


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def chunks_of(points: list, workers: int, tier: str) -> list[list]:
    """Cycle-tier points run alone (each takes ~0.01-10 s); roofline points (~2 ms each) go in
    chunks of up to 64, at least 8 chunks per worker, to amortise the inter-process hop."""
    size = 1 if tier == "cycle" else max(1, min(64, len(points) // (8 * max(1, workers))))
    return [points[i:i + size] for i in range(0, len(points), size)]


def parse_dask(value: str | None) -> tuple[str, int] | None:
    """None | 'local:N' | ADDRESS -> None | ('local', N) | ('address', 0); checks that
    dask.distributed is importable, before any work."""
    if value is None:
        return None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise HwsimError("--dask needs dask.distributed: pip install 'hwsim[dask]'") from None
    if value.startswith("local:") or value == "local":
        count = value.partition(":")[2] or str(default_workers())
        if not count.isdigit() or int(count) < 1:
            raise HwsimError(f"--dask {value}: expected local:N with N >= 1 workers")
        return "local", int(count)
    return value, 0


def pool_context():
    """fork where it is safe (POSIX, no other thread in this process): workers start at once
    with the targets this process has read; else forkserver (or spawn), whose workers import
    the project afresh."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["hwsim.sweep.evaluate"])
    return context


def run_local(chunks: list, workers: int):
    if workers <= 1:
        for chunk in chunks:
            yield evaluate_chunk(chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                             initializer=die_with_parent) as pool:  # no orphans after a kill
        pending, queue = set(), iter(chunks)
        while True:
            while len(pending) < IN_FLIGHT_PER_WORKER * workers:
                chunk = next(queue, None)
                if chunk is None:
                    break
                pending.add(pool.submit(evaluate_chunk, chunk))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield future.result()
                except BrokenExecutor:
                    raise HwsimError("a sweep worker process died (out of memory? killed?); "
                                     "the rows so far are kept: rerun with --resume") from None


class DaskEngine:
    """A connection to a dask.distributed scheduler (started here for local:N), made before
    any file is written so that an unreachable address leaves nothing behind."""

    def __init__(self, engine: tuple[str, int]):
        from distributed import Client, LocalCluster
        self.cluster = None
        try:
            if engine[0] == "local":
                self.cluster = LocalCluster(n_workers=engine[1], threads_per_worker=1,
                                            processes=True, host="127.0.0.1",
                                            dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
            else:
                self.client = Client(engine[0], timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as err:
            if self.cluster is not None:
                self.cluster.close()
            raise HwsimError(f"--dask {engine[0]}: cannot reach a dask scheduler: "
                             f"{error_text(err)}") from None

    def run(self, chunks: list):
        from distributed import as_completed
        client = self.client
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        queue = iter(chunks)
        futures = as_completed([client.submit(evaluate_chunk, c, pure=False)
                                for c in _take(queue, IN_FLIGHT_PER_WORKER * max(1, threads))])
        for future in futures:
            try:
                yield future.result()
            except Exception as err:  # noqa: BLE001 -- a worker that cannot run the project
                raise HwsimError(f"dask worker failed: {error_text(err)}") from None
            for chunk in _take(queue, 1):
                futures.add(client.submit(evaluate_chunk, chunk, pure=False))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _take(queue, count: int) -> list:
    out = []
    for item in queue:
        out.append(item)
        if len(out) == count:
            break
    return out
