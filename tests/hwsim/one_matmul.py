"""One hand-written MATMUL instruction timed by the service model (no compiler): the shared
helper of the GPU GEMM-kernel tests (test_awq_gemm, test_gemm_datapath)."""
import isa
import targets
from hwsim.program_arrays import flatten
from hwsim.service import service_seconds, unit_of_rows


def one_matmul_seconds(target: str, m: int, n: int, k: int, dtype_wgt: str, sets=()) -> float:
    """Service time (s) of one fp16-activation MATMUL m x n x k with `dtype_wgt` weights on the
    preset `target` with `--set` overrides `sets`."""
    t = targets.load_target(target, list(sets))
    p = isa.assemble(
        f".target {target}\n"
        f"MATMUL dtype_act=fp16 dtype_wgt={dtype_wgt} dtype_out=fp16 m={m} n={n} k={k} "
        "act_buf=0 wgt_buf=0 wgt_addr=0x200000 out_buf=0 out_addr=0x2200000 count=1\n", "hand")
    a = flatten(isa.Program(t.name, t.fingerprint(), p.streams))
    return float(service_seconds(a, t, unit_of_rows(a, t))[0])
