"""The single kernels `hwsim kernel` builds and their shape arguments (no graph imports, so the
command line can list them without loading the compiler)."""
from __future__ import annotations

from compiler.errors import CompilerError

SHAPES = {"gemm": "M,K,N", "gemv": "K,N", "attention": "BATCH,HEADS,CONTEXT,HEAD_DIM",
          "softmax": "ROWS,COLS", "layernorm": "ROWS,COLS"}


def parse_shape(kind: str, text: str) -> tuple[int, ...]:
    if kind not in SHAPES:
        raise CompilerError(f"unknown kernel {kind!r} (one of {', '.join(SHAPES)})")
    try:
        dims = tuple(int(x) for x in text.replace("x", ",").split(","))
    except ValueError:
        dims = ()
    if len(dims) != len(SHAPES[kind].split(",")) or min(dims, default=0) < 1:
        raise CompilerError(f"--shape for {kind} must be {SHAPES[kind]} positive integers, "
                            f"not {text!r}")
    return dims
