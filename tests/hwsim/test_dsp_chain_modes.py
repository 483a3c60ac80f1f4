"""Issue 18: FlightLLM decode step time is monotone in batch. `flightllm-u280`, LLaMA2-7B,
2 layers, context 512 took 7.47 ms at batch 8 (GEMV rows <= 8 ran in the DSP chains' MV
mode, 3,072 MAC/cycle, one row after another) and 2.92 ms at batch 9 (MM mode, 12,288
MAC/cycle over packed row pairs). One more sequence may cost little, never less."""
from compiler.ir.workload import Workload
from hwsim.api.flows.run_model import simulate_model
from targets import load_target

U280 = load_target("flightllm-u280")


def test_u280_decode_is_monotone_in_batch_1_to_16():
    times = [simulate_model("llama2-7b", Workload(phase="decode", batch=b, context=512,
                                                 layers=2), U280)["seconds"]
             for b in range(1, 17)]
    for b, (t0, t1) in enumerate(zip(times, times[1:]), start=1):
        assert t0 <= t1, f"batch {b}: {t0:.6g} s > batch {b + 1}: {t1:.6g} s"
