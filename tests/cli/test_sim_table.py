"""The simulate / demo table explains itself: precisions and context in the header, the clock
behind `cycles`, DRAM achieved against peak, average watts, and a time split that adds up."""
import re


def test_simulate_table_states_what_it_measured(hwsim):
    out = hwsim("simulate", "tiny-llama", "-t", "a100", "--context", "64", "--kv-bits", "8")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.splitlines()[0] == ("tiny-llama on a100: decode, batch 1, context 64, fp16, "
                                    "KV 8-bit")
    ms = float(re.search(r"time\s+([\d.]+) ms", text).group(1))
    cycles = int(re.search(r"\(([\d,]+) cycles of sm at 1.41 GHz\)", text).group(1)
                 .replace(",", ""))
    assert abs(cycles / 1.41e9 * 1e3 - ms) <= 0.0005 + 1e-3 * ms      # the named clock
    assert re.search(r"DRAM\s+[\d.]+ [kMGT]?B/s achieved of 1.55 TB/s peak", text)
    assert re.search(r"average [\d.]+ W", text)
    split = re.search(r"where the time goes \(adds up to ([\d.]+) ms\): (.*)", text)
    assert float(split.group(1)) == ms
    parts = [float(x) for x in re.findall(r" ([\d.]+) ms \(", split.group(2))]
    assert abs(sum(parts) - ms) <= 0.0005 * len(parts)
    busy = re.search(r"busy per unit \(overlapping, fractions of the step\): (.*)", text)
    assert {p.split()[0] for p in busy.group(1).split(", ")} <= {"sm", "memory"}


def test_simulate_table_says_where_layer_timing_was_reused(hwsim):
    # LLaMA2-7B decode on h100 (no DRAM timing table): layers 6-25 copy layer 1's timing (the
    # JSON's reuse field, tests/scale/test_layer_reuse.py), 20 of 32
    out = hwsim("simulate", "llama2-7b", "-t", "h100")
    assert out.returncode == 0, out.stderr
    assert "layer reuse 20 of 32 layers' timing copied (6-25 from 1)" in out.stdout
    # a timed DRAM (flightllm-u280's HBM) whose layers' addresses do not move by whole DRAM
    # row periods is not reused, and the table says why
    out = hwsim("simulate", "llama2-7b", "-t", "flightllm-u280", "--layers", "4")
    assert out.returncode == 0, out.stderr
    assert re.search(r"layer reuse none of \d+ layers: .*DRAM timing table", out.stdout)
