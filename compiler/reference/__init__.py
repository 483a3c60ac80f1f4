"""The numpy reference: seeded weights and KV cache, a float32 executor, and the quantized
executor whose integer results the simulator's functional mode must match bit for bit."""
from compiler.reference.calibration import Calibration, calibrate
from compiler.reference.float_exec import FloatExecutor, run_float
from compiler.reference.int_exec import IntExecutor, QuantRun, run_int
from compiler.reference.kvcache import KVCache
from compiler.reference.sparsity import nm_prune
from compiler.reference.weights import WeightStore

__all__ = ["Calibration", "calibrate", "FloatExecutor", "run_float", "IntExecutor", "QuantRun",
           "run_int", "KVCache", "nm_prune", "WeightStore"]
