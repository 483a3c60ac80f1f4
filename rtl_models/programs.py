"""The whole programs `hwsim cosim` and tests/rtl run on the ISA core, each with its input image
and an independently computed expected output image.

- `gemm`: compiled by the compiler through the path `hwsim kernel gemm` uses
  (compiler.kernels.kernel_graph + compiler.pipeline.compile_graph) for targets/rtl-tiny.yaml.
  Expected: numpy int64 x @ W requantized by isa.intmath.requantize with the program's REQUANT
  multiplier, written over the input image at the program's output address.
- `vexp`: a hand-written LOAD -> VEXP -> STORE program (the compiler lowers softmax to SOFTMAX,
  which the core does not run), checked by the ISA verifier; expected: isa.intmath.exp_q15.

The gemm's expected image is also computed by hwsim.functional (the simulator's functional
mode); the two must agree before the RTL is compared with them.
"""
from __future__ import annotations

import numpy as np

import isa
from isa import Instruction, Opcode, Queue, intmath
from rtl_models.cosim import CheckResult, CosimError
from rtl_models.program_cosim import TARGET_PATH, compare, run_on_core

GEMM_SHAPES = {"icarus": [(16, 16, 16), (64, 32, 32)], "verilator": [(64, 32, 32)]}


def load_tiny_target():
    from targets.loader import load_target
    return load_target(str(TARGET_PATH))


def functional_image(program, target, dram: np.ndarray, rows: int) -> np.ndarray:
    """hwsim.functional's final off-chip image; the input gather reads table rows 0..rows-1
    (token ids = arange), which is the contiguous copy the core's LOAD does."""
    from hwsim.functional import execute
    return execute(program, target, dram.copy(), token_ids=np.arange(rows)).dram


def gemm_expected(program: isa.Program, shape, dram: np.ndarray) -> np.ndarray:
    """The input image with out = requantize(x @ W) (int8, M x N row-major) at the first STORE's
    address; x (M x K int8) and W (K x N int8) where the program's metadata places them."""
    m, k, n = shape
    where = {w["op"]: w["dram_addr"] for w in program.metadata["weights"]}
    x = dram[where["x"]:where["x"] + m * k].view(np.int8).reshape(m, k).astype(np.int64)
    w = dram[where["gemm"]:where["gemm"] + k * n].view(np.int8).reshape(k, n).astype(np.int64)
    req = program.streams[Queue.VEC][0]
    out = intmath.requantize(x @ w, req["imm"], req["shift"], 8)
    image = dram.copy()
    base = program.streams[Queue.ST][0]["dram_addr"]
    image[base:base + m * n] = out.view(np.uint8).ravel()
    return image


def vexp_program(rows: int, cols: int, scale: float) -> tuple[isa.Program, int, int]:
    """LOAD rows x cols int8 from DRAM 0, VEXP to int16 Q15, STORE to DRAM 0x1000."""
    imm, shift = intmath.exp_multiplier(scale)
    e = rows * cols
    instrs = [Instruction("LOAD", release=["VEC"], dtype="int8", sram_addr=0, dram_addr=0,
                          rows=rows, row_bytes=cols),
              Instruction("VEXP", wait=["LD"], release=["ST"], dtype_in="int8",
                          dtype_out="int16", rows=rows, cols=cols, src0_addr=0,
                          dst_addr=0x4000, imm=imm, shift=shift, count=1),
              Instruction("STORE", wait=["VEC"], release=["SYS"], dtype="int16", sram_addr=0x4000,
                          dram_addr=0x1000, rows=1, row_bytes=2 * e),
              Instruction("HALT", wait=["ST"])]
    return isa.Program.from_instructions("rtl-tiny", instrs), imm, shift


def vexp_expected(dram: np.ndarray, rows: int, cols: int, imm: int, shift: int) -> np.ndarray:
    q = dram[:rows * cols].view(np.int8).astype(np.int64)
    image = dram.copy()
    y = intmath.exp_q15(q, imm, shift).astype("<i2")
    image[0x1000:0x1000 + 2 * rows * cols] = y.view(np.uint8)
    return image


def cross_check_gemm(shape, sim: str = "icarus", seed: int = 0, build_root=None,
                     target=None, *, compile_program) -> CheckResult:
    """`compile_program(shape, target)` -> the compiled gemm (hwsim.api.flows.cosim_programs: the
    compiler is reached from the CLI / API layer, not from here)."""
    target = target or load_tiny_target()
    program = compile_program(tuple(shape), target)
    used = int(program.metadata["dram_bytes"])
    dram = np.random.default_rng(seed).integers(0, 256, size=used, dtype=np.uint8)
    expected = gemm_expected(program, shape, dram)
    functional = functional_image(program, target, dram, shape[0])
    if not np.array_equal(functional[:used], expected):
        raise CosimError("hwsim.functional and the numpy gemm reference disagree")
    obs = run_on_core(program, target, dram, sim=sim, build_root=build_root)
    m, k, n = shape
    config = f"gemm M={m} K={k} N={n} int8 on rtl-tiny ({len(program)} instructions)"
    result = compare("program", config, program, target, expected, obs, vectors=m)
    result.sim = sim
    return result


def cross_check_vexp(rows: int = 8, cols: int = 32, sim: str = "icarus", seed: int = 0,
                     build_root=None, target=None) -> CheckResult:
    target = target or load_tiny_target()
    program, imm, shift = vexp_program(rows, cols, 1 / 16)
    isa.verify(program, target.isa_resources())
    dram = np.zeros(0x1000 + 2 * rows * cols, np.uint8)
    dram[:rows * cols] = np.random.default_rng(seed).integers(0, 256, size=rows * cols)
    expected = vexp_expected(dram, rows, cols, imm, shift)
    obs = run_on_core(program, target, dram, sim=sim, build_root=build_root)
    config = f"LOAD-VEXP-STORE {rows}x{cols} int8->int16 on rtl-tiny"
    result = compare("program", config, program, target, expected, obs,
                     vectors=rows * cols)
    result.sim = sim
    return result


# Whole programs `hwsim cosim` runs per simulator: (name, function(sim, seed, build_root,
# compile_program)).
def _gemm(shape):
    return lambda sim, seed, root, compile_program: cross_check_gemm(
        shape, sim, seed, root, compile_program=compile_program)


def _vexp(rows, cols):
    return lambda sim, seed, root, compile_program: cross_check_vexp(rows, cols, sim, seed, root)


COSIM_PROGRAMS = {
    "icarus": [("gemm 16x16x16", _gemm((16, 16, 16))), ("gemm 64x32x32", _gemm((64, 32, 32))),
               ("vexp 8x32", _vexp(8, 32))],
    "verilator": [("gemm 64x32x32", _gemm((64, 32, 32))), ("vexp 8x32", _vexp(8, 32))],
}
