"""`hwsim models`, `hwsim inspect`, `hwsim compile`, run as a user would (real subprocess)."""
import json

import pytest

import isa
from compiler.frontend import zoo_entry, zoo_names
from compiler.frontend.zoo import _zoo_dir
from tests.cli.test_bad_input import assert_one_line_error

# LLaMA2-7B: V=32000, H=4096, L=32, I=11008 (embeddings + lm_head + layers + final norm)
LLAMA2_7B_PARAMS = 32000 * 4096 * 2 + 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008 + 2 * 4096) + 4096


def test_models_lists_every_zoo_model(hwsim):
    out = hwsim("models")
    assert out.returncode == 0, out.stderr
    first_column = [line.split()[0] for line in out.stdout.splitlines()[2:] if line.strip()]
    assert first_column == zoo_names()


def test_models_json(hwsim):
    out = hwsim("models", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == zoo_names()
    llama = next(r for r in rows if r["name"] == "llama2-7b")
    assert (llama["family"], llama["layers"], llama["hidden_size"]) == ("llama", 32, 4096)


def test_inspect_json(hwsim):
    out = hwsim("inspect", "llama2-7b", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["parameters"]["total"] == LLAMA2_7B_PARAMS
    assert report["kv_cache_bytes_per_token"] == 2 * 32 * 4096 * 2 == 524_288
    assert report["attention"] == "mha"


def test_inspect_text(hwsim):
    out = hwsim("inspect", "llama2-7b")
    assert out.returncode == 0, out.stderr
    assert f"parameters: {LLAMA2_7B_PARAMS:,} total" in out.stdout
    assert "KV cache: 524,288 bytes per token at 16-bit" in out.stdout


def test_inspect_a_config_path(hwsim, tmp_path):
    folder = tmp_path / "my-llama"
    folder.mkdir()
    (folder / "config.json").write_text((_zoo_dir() / zoo_entry("llama2-7b")["file"]).read_text())
    out = hwsim("inspect", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["model"] == "my-llama"
    assert report["parameters"]["total"] == LLAMA2_7B_PARAMS


def _compile(hwsim, cwd, *extra, model="tiny-llama", target="flightllm-u280", out="X.hwx"):
    return hwsim("compile", model, "-t", target, "-o", out, *extra, cwd=cwd)


def test_compile_writes_program_and_assembly_that_agree(hwsim, tmp_path):
    out = _compile(hwsim, tmp_path, "--asm", "X.s")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("X.hwx: ")
    program = isa.read(tmp_path / "X.hwx")
    assert program.target_name == "flightllm-u280"
    assert len(program) > 0
    assert isa.assemble((tmp_path / "X.s").read_text()) == program
    text = hwsim("disasm", "X.hwx", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert isa.assemble(text.stdout) == program
    assert text.stdout == (tmp_path / "X.s").read_text()


def test_compile_json_summary(hwsim, tmp_path):
    out = _compile(hwsim, tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["model"], summary["target"], summary["quant"]) == \
        ("tiny-llama", "flightllm-u280", "w4a8")  # FlightLLM's default scheme
    program = isa.read(tmp_path / "X.hwx")
    assert sum(summary["instructions"].values()) == len(program)


def test_compile_is_deterministic(hwsim, tmp_path):
    first = _compile(hwsim, tmp_path, "--asm", "a.s", out="a.hwx")
    second = _compile(hwsim, tmp_path, "--asm", "b.s", out="b.hwx")
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert (tmp_path / "a.hwx").read_bytes() == (tmp_path / "b.hwx").read_bytes()
    assert (tmp_path / "a.s").read_text() == (tmp_path / "b.s").read_text()


# ------------------------------------------------------------------ errors: one line, exit 2

LLAMA_CONFIG = json.loads((_zoo_dir() / zoo_entry("tiny-llama")["file"]).read_text())


def _config_dir(tmp_path, content) -> str:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "config.json").write_text(content if isinstance(content, str)
                                        else json.dumps(content))
    return "cfg"


def _unknown_type(tmp_path):
    return _config_dir(tmp_path, {**LLAMA_CONFIG, "model_type": "bert"})


def _no_hidden_size(tmp_path):
    return _config_dir(tmp_path, {k: v for k, v in LLAMA_CONFIG.items() if k != "hidden_size"})


def _malformed(tmp_path):
    return _config_dir(tmp_path, '{"model_type": "llama", "hidden_size": 64,,}')


@pytest.mark.parametrize("model, extra, fragments", [
    (lambda p: "no-such-model", (), ("unknown model 'no-such-model'", "tiny-llama")),
    (_unknown_type, (), ("cfg: unknown model_type 'bert'", "supported: ")),
    (_no_hidden_size, (), ("cfg: config.json has no 'hidden_size'", "model_type llama")),
    (_malformed, (), ("config.json: malformed JSON at line 1 column",)),
    (lambda p: "mixtral-8x7b", (), ("mixtral-8x7b does not fit flightllm-u280:", "at w4a8",
                                    "hbm holds 8.59 GB")),
    (lambda p: "tiny-llama", ("--batch", "0"), ("--batch must be >= 1, not 0",)),
], ids=["unknown-name", "unknown-model-type", "missing-hidden-size", "malformed-json",
        "does-not-fit", "batch-0"])
def test_compile_errors_leave_no_output(hwsim, tmp_path, model, extra, fragments):
    name = model(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    out = _compile(hwsim, tmp_path, "--asm", "X.s", *extra, model=name)
    assert_one_line_error(out, *fragments)
    assert out.stdout == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no X.hwx, X.s or temp file


@pytest.mark.parametrize("model, fragments", [
    (lambda p: "no-such-model", ("unknown model 'no-such-model'",)),
    (_unknown_type, ("unknown model_type 'bert'",)),
    (_no_hidden_size, ("config.json has no 'hidden_size'",)),
    (_malformed, ("malformed JSON",)),
], ids=["unknown-name", "unknown-model-type", "missing-hidden-size", "malformed-json"])
def test_inspect_errors(hwsim, tmp_path, model, fragments):
    out = hwsim("inspect", model(tmp_path), cwd=tmp_path)
    assert_one_line_error(out, *fragments)
    assert out.stdout == ""


def test_inspect_batch_zero(hwsim):
    assert_one_line_error(hwsim("inspect", "tiny-llama", "--batch", "0"),
                          "--batch must be >= 1, not 0")


# ---- PAPERS.md analytical checks through `hwsim inspect` (worked out by hand in PAPERS.md) ----

def _inspect(hwsim, *args):
    out = hwsim("inspect", *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_b1_mha2mla_llama2_7b_kv_cache_92_1875_percent_smaller(hwsim):
    # MHA: 2 x 32 x 128 = 8192 values/token/layer; MLA latent 576 + RoPE key 64 = 640 values
    r = _inspect(hwsim, "llama2-7b", "--mla-rank", "576", "--mla-rope-dims", "64")
    assert r["kv_cache_bytes_per_token"] == 640 * 32 * 2
    assert r["kv_cache_reduction_vs_mha_fp16"] == 0.921875
    # with 4-bit KV quantization, 2560 values per layer give the same 92.1875 %
    r4 = _inspect(hwsim, "llama2-7b", "--mla-rank", "2496", "--kv-bits", "4")
    assert r4["kv_cache_reduction_vs_mha_fp16"] == 0.921875
    assert "92.1875 % less" in hwsim("inspect", "llama2-7b", "--mla-rank", "576").stdout


def test_b3_headinfer_llama3_8b_one_million_tokens_is_128_gib(hwsim):
    r = _inspect(hwsim, "llama3-8b", "--context", str(2 ** 20))
    assert r["kv_cache_bytes_per_token"] == 2 * 32 * 8 * 128 * 2   # 128 KiB
    assert r["kv_cache_bytes"] == 128 * 2 ** 30
    # one (layer, KV head) slice of the 1M-token cache: 0.5 GiB, so "1 GB" keeps two slices
    assert r["kv_cache_bytes"] / (32 * 8) == 0.5 * 2 ** 30


def test_b17_edkm_llama_7b_weights_12_55_gib_fp16_and_2_53_gb_at_3_bits(hwsim):
    fp16 = _inspect(hwsim, "llama2-7b")
    three = _inspect(hwsim, "llama2-7b", "--weight-bits", "3")
    assert fp16["weight_bytes"] == 6_738_415_616 * 2
    assert fp16["weight_bytes"] / 2 ** 30 == pytest.approx(12.55, abs=0.005)
    assert three["weight_bytes"] / 1e9 == pytest.approx(2.53, abs=0.005)


def test_inspect_mla_conversion_rejects_bad_dims(hwsim):
    out = hwsim("inspect", "llama2-7b", "--mla-rank", "64", "--mla-rope-dims", "128")
    assert out.returncode == 2 and "--mla-rope-dims" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
