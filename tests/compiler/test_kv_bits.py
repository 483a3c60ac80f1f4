"""The KV cache width a run reports is the width it stores (issue 18, finding 11): the integer
schemes (int8 activations) keep K/V as int8 unless --kv-bits asks for fewer bits."""
import json

import pytest

import targets
from compiler.frontend import load_model
from compiler.ir.workload import Workload
from compiler.passes.quantize import stored_kv_bits
from compiler.pipeline import lower

# (scheme, --kv-bits) -> bits per stored element, from the scheme table in quantize.py's doc
TABLE = [("fp16", 16, 16), ("fp16", 8, 8), ("fp16", 4, 4), ("w4a16", 16, 16), ("w4a16", 4, 4),
         ("w8a16", 16, 16),
         ("w8a8", 16, 8), ("w8a8", 8, 8), ("w8a8", 4, 4), ("w4a8", 16, 8), ("w4a8", 2, 2),
         ("mixed", 16, 8)]


@pytest.mark.parametrize("quant, requested, stored", TABLE)
def test_stored_kv_bits_is_what_the_cache_holds(quant, requested, stored):
    # tiny-llama's checkpoint is fp32: the weight-only schemes still run fp16 activations and cache
    assert stored_kv_bits(quant, requested, "fp32") == stored
    assert stored_kv_bits(quant, requested, "bf16") == min(stored, 16)
    g = lower(load_model("tiny-llama"), Workload(phase="decode", quant=quant, kv_bits=requested,
                                                 context=8, layers=1),
              targets.load_target("a100"))
    assert g.op("L0.kv_write").output.bits == stored


@pytest.mark.parametrize("quant, stored", [("w8a8", 8), ("w4a8", 8), ("fp16", 16)])
def test_simulate_json_reports_the_stored_kv_width(hwsim, quant, stored):
    out = hwsim("simulate", "tiny-llama", "-t", "flightllm-u280" if quant != "fp16" else "a100",
                "--quant", quant, "--phase", "decode", "--context", "8", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kv_bits"] == stored
