"""The six fuzz campaigns of issue 16: each reader alone, and each reader's accepted inputs
driven on through compile / simulate. Each is `body(record, examples)` for harness.run_campaign;
the seed corpus is built inside the (forked) child."""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from functools import lru_cache

import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import isa
from compiler.analysis import inspect_model
from compiler.frontend import limits, load_model
from compiler.ir.workload import Workload
from compiler.pipeline import compile_model
from hwsim.program_meta import workload_of
from hwsim.simulate import simulate_program
from targets import load_target, preset_dir, preset_names
from targets.ranges import range_of
from tests.fuzz import program_mutants
from tests.fuzz.mutate import byte_mutants, numeric_perturbations, tree_mutants

SEED = int(os.environ.get("HWSIM_FUZZ_SEED", "16"))  # another seed: another repeatable campaign
TINY_MODELS = ("tiny-llama", "tiny-mixtral", "tiny-opt", "tiny-deepseek-v2")
ZOO = os.path.join(os.path.dirname(__file__), "..", "..", "compiler", "zoo")


def _run(strategy, examples: int, test) -> None:
    """Drive `test` with `examples` draws of `strategy`: seeded, no shrinking, no database."""
    @seed(SEED)
    @settings(max_examples=examples, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value):
        test(value)
    run()


# ------------------------------------------------------------------ .hwx

@lru_cache(maxsize=None)
def seed_programs() -> tuple:
    """(program, target) pairs: small compiled programs on three families."""
    out = []
    for target_name, workload in (("neupims", Workload(phase="decode", context=32, layers=1)),
                                  ("flightllm-u280", Workload(phase="prefill", seq=16, layers=1)),
                                  ("a100", Workload(phase="decode", batch=2, context=16,
                                                    layers=1))):
        target = load_target(target_name)
        program = compile_model(load_model("tiny-llama"), workload, target).program
        out.append((program, target))
    return tuple(out)


def hwx_decoder(record, examples: int) -> None:
    """`hwsim disasm`'s reader on byte mutants, half with a fixed-up (valid) checksum; every
    accepted program must survive to_bytes and asm(disasm(p))."""
    seeds = [isa.to_bytes(p) for p, _ in seed_programs()]
    hot = program_mutants.header_offsets(seeds[0])

    def check(data):
        program = record("hwx", isa.from_bytes, data)
        if program is not None:
            program_mutants.check_round_trips(record, program)

    strategy = st.one_of(byte_mutants(seeds, hot), byte_mutants(seeds, hot).map(_rechecksum),
                         program_mutants.structural(seed_programs()).map(
                             lambda pair: isa.to_bytes(pair[0])),
                         program_mutants.raw_sections(seeds[0]).map(_rechecksum))
    _run(strategy, examples, check)


def _rechecksum(data: bytes) -> bytes:
    body = data[:-32] if len(data) > 32 else data
    return body + hashlib.sha256(body).digest()


def hwx_simulate(record, examples: int) -> None:
    """Accepted .hwx mutants through what `simulate p.hwx` runs; results must be finite."""
    def run(pair):
        program, target = pair
        loaded = isa.from_bytes(isa.to_bytes(program))
        meta = workload_of(loaded, "p.hwx")
        tokens = meta["batch"] * (meta["seq"] if meta["phase"] == "prefill" else 1)
        return simulate_program(loaded, target, tokens)

    def check(pair):
        result = record("simulate hwx", run, pair, shown=program_mutants.describe(pair[0]))
        if result is not None:
            _finite(record, "simulate hwx", result, program_mutants.describe(pair[0]))
    _run(program_mutants.structural(seed_programs(), simulate=True), examples, check)


# ------------------------------------------------------------------ target YAML

def _preset_texts() -> list[bytes]:
    return [(preset_dir() / f"{n}.yaml").read_bytes() for n in preset_names()]


def _preset_trees() -> list[dict]:
    return [yaml.safe_load(t) for t in _preset_texts()]


def _dump_yaml(tree) -> bytes:
    try:
        return yaml.safe_dump(tree, sort_keys=False).encode()
    except (RecursionError, yaml.YAMLError):
        return json.dumps(tree).encode()   # JSON is YAML flow style


SPECIAL_YAML = [b"a:\n" + b"  " * 0 + b"[" * 900 + b"]" * 900, b"x: " + b"9" * 5000,
                b"name: a\nname: b\n", b"a: &x [1]\nb: *x\n", b"- 1\n- 2\n", b"",
                b"\xff\xfe", b"family: gpu\n" + b"k: v\n" * 3]


def target_yaml(record, examples: int) -> None:
    folder = tempfile.mkdtemp(prefix="hwsim-fuzz-yaml-")
    path = os.path.join(folder, "t.yaml")

    def load(data: bytes):
        with open(path, "wb") as handle:
            handle.write(data)
        return load_target(path)
    strategy = st.one_of(byte_mutants(_preset_texts()),
                         tree_mutants(_preset_trees()).map(_dump_yaml),
                         st.sampled_from(SPECIAL_YAML),
                         st.tuples(st.sampled_from(preset_names()),
                                   st.lists(_set_values(), min_size=1, max_size=3)).map(
                             lambda p: ("--set", p)))
    _run(strategy, examples, lambda d: record(
        "target yaml", (lambda x: load_target(*x[1])) if isinstance(d, tuple) else load, d))


def _set_values():
    keys = st.sampled_from(["clocks.core.freq_hz", "memories.hbm.channels",
                            "memories.hbm.bandwidth_bytes_per_s", "buffers.a_buf.size_bytes",
                            "energy.static.power_w", "units.mpe.cores", "mechanisms.chunk_tokens",
                            "memories.dram.capacity_bytes", "clocks.sm.freq_hz"])
    values = st.sampled_from(["1e30", "inf", "nan", "-1", "0", "1e-30", "9" * 5000, "[" * 600,
                              "true", "", "50000000", "2.5", "{a: 1}", "*x", "0x10"])
    return st.tuples(keys, values).map(lambda kv: f"{kv[0]}={kv[1]}")


def target_simulate(record, examples: int) -> None:
    """Accepted targets (plausible perturbations of the presets) -> tiny-llama decode."""
    def run(tree):
        from targets.loader import validate
        target = validate(tree, "fuzzed target")
        model = load_model("tiny-llama")
        compiled = compile_model(model, Workload(phase="decode", context=64), target)
        return simulate_program(compiled.program, target, 1)

    def check(tree):
        result = record("target simulate", run, tree, shown=_changed(tree))
        if result is not None:
            _finite(record, "target simulate", result, _changed(tree))
    _run(numeric_perturbations(_preset_trees(), bounds=_target_bounds), examples, check)


def _target_bounds(name: str):
    span = range_of(name)
    return None if span is None else list(span[:2])


def _changed(tree) -> str:
    return f"target {tree.get('name')} (perturbed)"


# ------------------------------------------------------------------ config.json

def _zoo_texts(names=None) -> list[bytes]:
    files = sorted(f for f in os.listdir(ZOO) if f.endswith(".json"))
    return [open(os.path.join(ZOO, f), "rb").read() for f in files
            if names is None or f[:-5] in names]


SPECIAL_JSON = [b"[" * 5000 + b"]" * 5000, b'{"model_type": "llama", "hidden_size": ' +
                b"9" * 5000 + b"}", b'{"a": NaN}', b'{"a": 1, "a": 2}', b'{"x": 1e400}',
                b'{"model_type": "llama", "num_hidden_layers": 100000}', b"", b"null"]


def config_json(record, examples: int) -> None:
    folder = tempfile.mkdtemp(prefix="hwsim-fuzz-config-")
    path = os.path.join(folder, "config.json")

    def load(data: bytes):
        with open(path, "wb") as handle:
            handle.write(data)
        return load_model(path)
    trees = [json.loads(t) for t in _zoo_texts()]
    strategy = st.one_of(byte_mutants(_zoo_texts()),
                         tree_mutants(trees).map(lambda t: _dump_json(t)),
                         st.sampled_from(SPECIAL_JSON))
    _run(strategy, examples, lambda d: record("config.json", load, d))


def _dump_json(tree) -> bytes:
    try:
        return json.dumps(tree).encode()
    except (RecursionError, ValueError):
        return b"{}"


def config_compile(record, examples: int) -> None:
    """Accepted configs (tiny zoo models with numbers perturbed) -> inspect and a 1-layer
    compile + simulate on neupims."""
    folder = tempfile.mkdtemp(prefix="hwsim-fuzz-cc-")
    path = os.path.join(folder, "config.json")
    target = load_target("neupims")

    def run(tree):
        with open(path, "w") as handle:
            json.dump(tree, handle)
        model = load_model(path)
        inspect_model(model, Workload(phase="decode", context=64))
        work = Workload(phase="decode", context=64, layers=1)
        return simulate_program(compile_model(model, work, target).program, target, 1)

    def check(tree):
        result = record("config compile", run, tree, shown=tree)
        if result is not None:
            _finite(record, "config compile", result, tree)
    trees = [json.loads(t) for t in _zoo_texts(TINY_MODELS)]
    _run(st.one_of(numeric_perturbations(trees, bounds=_config_bounds), tree_mutants(trees)),
         examples, check)


def _config_bounds(name: str):
    if name in limits.KEY_LIMITS:
        return [1, limits.KEY_LIMITS[name]]
    return list(limits.NUMBER_LIMITS[name][:2]) if name in limits.NUMBER_LIMITS else None


def _finite(record, label, result: dict, shown) -> None:
    """Every number in a simulation result is finite and not negative."""
    bad = [(k, v) for k, v in _numbers(result) if not math.isfinite(v) or v < 0]
    if bad:
        record.failure("crashes", label, shown, f"non-finite or negative result: {bad[:3]}")


def _numbers(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if not str(k).startswith("_"):
                yield from _numbers(v, f"{prefix}{k}.")
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _numbers(v, f"{prefix}{i}.")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix.rstrip("."), float(node)


CAMPAIGNS = {"hwx_decoder": hwx_decoder, "hwx_simulate": hwx_simulate,
             "target_yaml": target_yaml, "target_simulate": target_simulate,
             "config_json": config_json, "config_compile": config_compile}
