"""Issue 16 causes 1 and 2 for config.json: strict JSON (nesting, integer length, NaN and
Infinity, duplicate keys, size) and a bound on every model dimension, named with its limit;
norm epsilons must be finite and > 0."""
import json
from pathlib import Path

import pytest

from compiler.errors import CompilerError
from compiler.frontend import load_model
from compiler.frontend.limits import MAX_CONFIG_CHARS, MAX_CONFIG_DEPTH

ZOO = Path(__file__).resolve().parents[2] / "compiler" / "zoo"
TINY = json.loads((ZOO / "tiny-llama.json").read_text())


def _load(tmp_path, text: str):
    path = tmp_path / "config.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CompilerError) as err:
        load_model(str(path))
    assert "\n" not in str(err.value)
    return str(err.value), str(path)


@pytest.mark.parametrize("text, message", [
    ("[" * 900 + "]" * 900, f"nests 900 levels deep; the limit is {MAX_CONFIG_DEPTH}"),
    ("[" * 5000 + "]" * 5000, f"nests deeper than {MAX_CONFIG_DEPTH} levels"),
    ('{"hidden_size": ' + "9" * 5000 + "}", ": integer of 5000 digits; the limit is 40"),
    ('{"rms_norm_eps": NaN}', ": NaN is not a finite number"),
    ('{"rope_theta": Infinity}', ": Infinity is not a finite number"),
    ('{"rope_theta": 1e400}', ": number 1e400 overflows a 64-bit float"),
    ('{"model_type": "llama", "model_type": "gpt2"}', ": duplicate key 'model_type'"),
], ids=["depth-900", "depth-5000", "digits", "nan", "infinity", "overflow", "duplicate"])
def test_malformed_json_is_one_compiler_error(tmp_path, text, message):
    got, path = _load(tmp_path, text)
    assert got == f"{path} {message}" if message.startswith("nests") else got == path + message


def test_a_config_over_the_size_limit_is_refused(tmp_path):
    got, path = _load(tmp_path, '{"pad": "' + "x" * MAX_CONFIG_CHARS + '"}')
    assert got == f"{path} is {MAX_CONFIG_CHARS + 11} characters; the limit is {MAX_CONFIG_CHARS}"


@pytest.mark.parametrize("key, value, message", [
    ("num_hidden_layers", 100000, "'num_hidden_layers' is 100000, above the limit of 1024"),
    ("hidden_size", 2**20, "'hidden_size' is 1048576, above the limit of 65536"),
    ("num_attention_heads", 4096, "'num_attention_heads' is 4096, above the limit of 1024"),
    ("vocab_size", 2**21, "'vocab_size' is 2097152, above the limit of 1048576"),
    ("intermediate_size", 10**7, "'intermediate_size' is 10000000, above the limit of 524288"),
    ("rms_norm_eps", 0, "'rms_norm_eps' must be a number in (0, 1], got 0"),
    ("rms_norm_eps", -1e-5, "'rms_norm_eps' must be a number in (0, 1], got -1e-05"),
    ("rope_theta", 1e300, "'rope_theta' must be a number in (0, 1e+12], got 1e+300"),
])
def test_dimensions_and_numbers_are_bounded_naming_the_limit(tmp_path, key, value, message):
    got, path = _load(tmp_path, json.dumps({**TINY, key: value}))
    model = Path(path).parent.name   # a config.json is named after its folder
    assert got == f"{model}: config.json {message} (model_type llama)"


def test_the_zoo_loads_within_the_limits():
    from compiler.frontend import zoo_names
    for name in zoo_names():
        load_model(name)
