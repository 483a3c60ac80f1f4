"""`hwsim fit` / hwsim.api.fit: what fits a main memory, with the bytes by kind.

Hand figures, LLaMA2-7B fp16 (32 layers, 32 KV heads of 128, 6,738,415,616 parameters): KV
bytes = 2 x 32 x 32 x 128 x positions x batch x 2 B = 524,288 B per position per sequence;
weights 13.48 GB. An A100 80GB holds 80 GiB = 85,899,345,920 B (the a100-80gb preset; the
40 GB a100 preset raised to it with --set admits the same runs).
"""
import json

import pytest

from hwsim import HwsimError
from hwsim import api
from tests.cli.test_bad_input import assert_one_line_error

A100_80GB = ("a100", ["memories.hbm.capacity_bytes=85899345920"])
KV_PER_TOKEN_BYTES = 2 * 32 * 32 * 128 * 2


def test_batch_384_at_context_256_fits_an_a100_80gb(hwsim):
    out = hwsim("fit", "llama2-7b", "-t", "a100-80gb", "--context", "256", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["max_batch"] >= 384
    r = api.fit("llama2-7b", A100_80GB[0], context=256, overrides=A100_80GB[1])
    assert r.max_batch >= 384
    assert r.context_tokens == 256 and r.prompt_tokens == 128 and r.gen_tokens == 128
    assert r.kv_bytes == KV_PER_TOKEN_BYTES * 256 * r.max_batch
    assert r.total_bytes <= r.capacity_bytes == 85899345920
    # weights + KV alone: 13.48e9 + 524,288 x 256 x b <= 85.9e9 -> b <= 539: the bound is
    # below it by the activations the prefill keeps live
    assert r.max_batch < (85899345920 - 13.476e9) // (KV_PER_TOKEN_BYTES * 256)


def test_batch_52_at_context_2176_fits_and_its_kv_is_the_hand_figure(hwsim):
    out = hwsim("fit", "llama2-7b", "-t", "a100-80gb", "--batch", "52", "--context", "2176",
                "--json")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["kv_bytes"] == 2 * 32 * 32 * 128 * 2176 * 52 * 2 == 59_324_235_776
    assert r["batch"] == 52 and r["context_tokens"] == 2176 and r["prompt_tokens"] == 2048
    assert r["max_batch"] >= 52 and r["max_context_tokens"] >= 2176
    assert r["weight_bytes"] + r["kv_bytes"] + r["activation_bytes"] + \
        r["workspace_bytes"] <= r["total_bytes"] <= r["capacity_bytes"]
    # the logits the sampler reads: 52 sequences x 32,000 x 2 B, page-aligned
    assert r["workspace_bytes"] == -(-52 * 32000 * 2 // 4096) * 4096


def test_over_capacity_is_refused_with_the_bytes_by_kind(hwsim):
    # 40 GiB: 13.48 GB of weights + 59.3 GB of KV cannot fit
    out = hwsim("fit", "llama2-7b", "-t", "a100", "--batch", "52", "--context", "2176")
    assert_one_line_error(out, "llama2-7b does not fit a100: it needs", "weights 13.48 GB",
                          "KV cache 59.32 GB", "activations", "workspace", "hbm holds 42.95 GB",
                          "at batch 52, context 2176", "the largest batch at context 2176 is")
    assert out.stdout == ""


def test_tiny_bounds_are_tight_and_the_json_is_the_record(hwsim):
    # tiny-llama on a 1 MiB main memory: the reported bounds fit, one more does not
    sets = ["--set", "memories.hbm.capacity_bytes=1048576"]
    r = api.fit("tiny-llama", "flightllm-u280", context=64, gen=16,
                overrides=[sets[1]])
    assert r.max_batch >= 1
    with pytest.raises(HwsimError, match=r"^tiny-llama does not fit flightllm-u280"):
        api.fit("tiny-llama", "flightllm-u280", batch=r.max_batch + 1, context=64, gen=16,
                overrides=[sets[1]])
    longest = api.fit("tiny-llama", "flightllm-u280", batch=2, gen=16, overrides=[sets[1]])
    with pytest.raises(HwsimError, match="does not fit"):
        api.fit("tiny-llama", "flightllm-u280", batch=2, context=longest.max_context_tokens + 1,
                gen=16, overrides=[sets[1]])
    out = hwsim("fit", "tiny-llama", "-t", "flightllm-u280", *sets, "--context", "64",
                "--gen", "16", "--json")
    assert json.loads(out.stdout) == r.to_dict()
    assert r.to_dict()["target"] == "flightllm-u280+1"


@pytest.mark.parametrize("args, fragment", [
    (("--context", "100"), "--context 100 must exceed --gen 128"),
    (("--batch", "0"), "--batch must be >= 1, not 0"),
    (("--gen", "0", "--context", "8"), "--gen must be >= 1, not 0"),
])
def test_bad_fit_input_is_one_line(hwsim, args, fragment):
    assert_one_line_error(hwsim("fit", "tiny-llama", "-t", "a100", *args), fragment)


def test_simulate_still_refuses_an_over_capacity_step_with_the_bytes_by_kind(hwsim):
    # 384 x 256 prompt tokens on the 40 GiB A100: weights 13.48 GB + KV 2 x 32 x 32 x 128 x 256
    # x 384 x 2 B = 51.54 GB alone exceed 42.95 GB; the logits 384 x 32,000 x 2 B = 0.02 GB
    out = hwsim("simulate", "llama2-7b", "-t", "a100", "--phase", "prefill", "--batch", "384",
                "--seq", "256")
    assert_one_line_error(out, "llama2-7b does not fit a100: it needs", "weights 13.48 GB at fp16",
                          "KV cache 51.54 GB", "activations", "workspace 0.02 GB",
                          "hbm holds 42.95 GB")
