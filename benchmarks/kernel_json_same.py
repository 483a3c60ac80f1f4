"""`hwsim kernel ... --json` for every kernel kind on every preset (a few shapes, both dtypes,
with and without `--set`), and `hwsim simulate ... --json` of two models in three phases on
every preset (the simulation set-up is shared), written to one file per case, or compared with
another tree's files.

Run it once per tree, then compare (value-neutral speed-ups of the kernel flow must keep every
file byte-identical):

    PYTHONPATH=/work/main python benchmarks/kernel_json_same.py write /tmp/kj_main
    PYTHONPATH=.          python benchmarks/kernel_json_same.py write /tmp/kj_new
    python benchmarks/kernel_json_same.py compare /tmp/kj_main /tmp/kj_new

Each case runs in-process through the CLI's `main` (stdout captured), so a whole run is one
process; a refusal (exit 2, its stderr line) is recorded and compared too.
"""
from __future__ import annotations

import contextlib
import io
import pathlib
import sys

PRESETS = ("flightllm-u280", "flightllm-vhk158", "neupims", "mllm-npu-sd8gen3", "a100",
           "a100-80gb", "h100", "v100s", "v100-pcie-16gb")
SHAPES = {"gemm": ("256,4096,4096", "1,4096,11008", "100,300,700"),
          "gemv": ("4096,4096", "1000,37"),
          "attention": ("1,32,512,128", "4,8,100,64"),
          "softmax": ("128,4096",), "layernorm": ("7,4096",)}
EXTRA = (  # (kind, shape, target, dtype, --set values)
    ("gemm", "256,4096,4096", "neupims", "fp16", ("units.systolic.count=1",)),
    ("gemm", "256,4096,4096", "neupims", "int8", ("units.systolic.count=1",)),
    ("gemm", "64,1024,1024", "flightllm-u280", "int8", ("clocks.core.freq_hz=3e8",)),
    ("attention", "2,8,300,64", "a100", "fp16", ("memories.hbm.capacity_bytes=1e12",)),
)


SIMULATE = (("tiny-llama", "16"), ("llama2-7b", "32"))  # (model, seq / context)


def cases():
    for target in PRESETS:
        for model, seq in SIMULATE:
            for phase in ("prefill", "decode", "generate"):
                yield "simulate", model, target, phase, ("--seq", seq, "--context", seq,
                                                         "--gen", "3")
    for target in PRESETS:
        for kind, shapes in SHAPES.items():
            for shape in shapes:
                for dtype in ("int8", "fp16"):
                    yield kind, shape, target, dtype, ()
    yield from EXTRA


def run_case(kind, shape, target, dtype, sets) -> str:
    from hwsim.cli.main import main
    if kind == "simulate":  # shape: the model, dtype: the phase, sets: further flags
        argv = ["simulate", shape, "-t", target, "--phase", dtype, "--json", *sets]
    else:
        argv = ["kernel", kind, "--shape", shape, "-t", target, "--dtype", dtype, "--json"]
        for s in sets:
            argv += ["--set", s]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return f"exit {code}\n{out.getvalue()}\nstderr: {err.getvalue()}"


def name_of(kind, shape, target, dtype, sets) -> str:
    return "_".join([kind, shape.replace(",", "x"), target, dtype, *sets]).replace(
        "=", "-").replace("--", "")


def write(folder: pathlib.Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases():
        (folder / f"{name_of(*case)}.txt").write_text(run_case(*case))


def compare(a: pathlib.Path, b: pathlib.Path) -> int:
    names = sorted(p.name for p in a.iterdir())
    differ = [n for n in names if not (b / n).exists() or
              (a / n).read_bytes() != (b / n).read_bytes()]
    refused = sum("exit 0" not in (a / n).read_text()[:8] for n in names)
    for n in differ:
        print("differs:", n)
    print(f"{len(names)} cases ({refused} refusals), {len(differ)} differ")
    return 1 if differ or not names else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write(pathlib.Path(sys.argv[2]))
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(compare(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
