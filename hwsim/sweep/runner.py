"""`hwsim sweep` from top to bottom: check the spec, plan the points, skip those already done,
run the rest on an engine, append rows as chunks finish, sort them into the output."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from hwsim.errors import HwsimError
from hwsim.sweep.engines import DaskEngine, chunks_of, default_workers, parse_dask, run_local
from hwsim.sweep.lifetime import output_lock
from hwsim.sweep.plan import build_plan
from hwsim.sweep.progress import Progress
from hwsim.sweep.spec import load_spec
from hwsim.sweep.store import RowStore, format_row

OUTPUT_SUFFIXES = (".csv", ".parquet")
REMOTE_CHUNKING_WORKERS = 16   # a remote cluster's size is unknown when chunks are cut


@dataclass(frozen=True)
class Summary:
    points: int         # in the spec
    ran: int            # run by this call
    skipped: int        # already in the output (--resume)
    errors: int         # error rows among those run
    dropped: int        # torn or malformed lines dropped from the journal on resume
    rows: int           # rows in the output
    seconds: float


def run_sweep(spec_path: str, output: str, *, check_model, workers: int | None = None,
              dask: str | None = None, resume: bool = False,
              progress: bool | None = None) -> Summary:
    """Run every point of SPEC.yaml not yet in `output`; returns what was done.

    check_model(name) raises ValueError for an unknown model (the CLI passes the front end's
    loader). Nothing is written before the whole spec has been checked.
    """
    start = time.monotonic()
    plan = build_plan(load_spec(spec_path), check_model)
    if not output.lower().endswith(OUTPUT_SUFFIXES):
        raise HwsimError(f"-o {output}: the output must end in .csv or .parquet")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise HwsimError(f"-o {output}: folder {folder} does not exist")
    if workers is not None and workers < 1:
        raise HwsimError(f"--workers must be >= 1, not {workers}")
    store = RowStore(output, plan.columns)
    engine = parse_dask(dask)
    with output_lock(output):  # a second sweep to this output is refused here
        cluster = DaskEngine(engine) if engine else None
        try:
            done = store.open(plan, resume)
            todo = [p for p in plan.points if p.key not in done]
            if cluster is None:
                workers = workers or default_workers()
                results = run_local(chunks_of(todo, workers, plan.spec.tier), workers)
            else:
                size = engine[1] or REMOTE_CHUNKING_WORKERS
                results = cluster.run(chunks_of(todo, size, plan.spec.tier))
            errors = _collect(results, plan, store, Progress(len(plan.points), len(done),
                                                             enabled=progress))
        finally:
            store.close()
            if cluster is not None:
                cluster.close()
        rows = store.finish()
    return Summary(len(plan.points), len(todo), len(done), errors, store.dropped, rows,
                   time.monotonic() - start)


def _collect(results, plan, store: RowStore, bar: Progress) -> int:
    """Append each finished chunk's rows; returns the number of error rows."""
    errors = 0
    try:
        for chunk in results:
            rows = [format_row(plan.points[i], result, plan.columns) for i, result in chunk]
            store.append(rows)
            failed = sum(1 for _, result in chunk if "error" in result)
            errors += failed
            bar.update(len(rows), failed)
    finally:
        results.close()     # stops the pool (or the dask loop) if we leave early
        bar.close()
    return errors
