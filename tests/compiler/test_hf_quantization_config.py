"""A GPTQ / AWQ config.json's quantization_config becomes the model's weight_quant (the 4-bit
group size the quantize pass uses), and a malformed one is one line naming the key."""
import pytest

from compiler.errors import CompilerError
from compiler.frontend import spec_from_hf_config
from compiler.ir.builder import build_graph
from compiler.ir.workload import Workload
from compiler.passes import quantize

BASE = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 256}


def spec(qc):
    return spec_from_hf_config({**BASE, "quantization_config": qc}, "m", "test")


def test_gptq_group_size_sets_the_w4_groups():
    model = spec({"quant_method": "gptq", "bits": 4, "group_size": 32})
    assert model.extra["weight_quant"] == {"bits": 4, "group_size": 32, "format": "gptq"}
    graph = quantize.run(build_graph(model, Workload(quant="w4a16")))
    groups = {op.attr("quant")["group_size"] for op in graph.ops() if op.attr("quant")}
    assert groups == {32}
    plain = spec_from_hf_config(BASE, "m", "test")
    graph = quantize.run(build_graph(plain, Workload(quant="w4a16")))
    assert {op.attr("quant")["group_size"] for op in graph.ops() if op.attr("quant")} == {64, 128}


def test_gptq_per_channel_is_no_group():
    assert spec({"quant_method": "awq", "bits": 4, "group_size": -1}).extra["weight_quant"] \
        == {"bits": 4, "group_size": None, "format": "awq"}


@pytest.mark.parametrize("qc, message", [
    ({"quant_method": "bitsandbytes", "bits": 4},
     "m: config.json 'quantization_config.quant_method' is 'bitsandbytes'; the compiler reads "
     "gptq and awq checkpoints (model_type llama)"),
    ({"quant_method": "gptq", "bits": 5},
     "m: config.json 'quantization_config.bits' must be 2, 3, 4 or 8, got 5 (model_type llama)"),
    ({"quant_method": "gptq", "bits": 4, "group_size": 0},
     "m: config.json 'quantization_config.group_size' must be -1 (per channel) or an integer "
     ">= 1, got 0 (model_type llama)"),
    ("gptq", "m: config.json 'quantization_config' must be an object, got 'gptq' "
             "(model_type llama)"),
])
def test_malformed_quantization_config(qc, message):
    with pytest.raises(CompilerError) as err:
        spec(qc)
    assert str(err.value) == message
