"""Hardware sweeps: a YAML spec of models x targets x workloads x target-field axes, run at the
roofline or cycle tier on a local process pool or a dask.distributed cluster, written to a
resumable CSV / Parquet file; and the Pareto front of the results. See docs/sweeps.md."""
from hwsim.sweep.pareto import front_indices, pareto
from hwsim.sweep.runner import Summary, run_sweep

__all__ = ["front_indices", "pareto", "Summary", "run_sweep"]
