"""Length-adaptive compilation (FlightLLM §5): one decode program per bucket of context lengths
instead of one per length, with the blocks the bucket programs share stored once.

Naive: a program for every context length 1..max_len. Adaptive: a program per bucket, compiled
at the bucket's longest length (shorter lengths run it masked). Every program lays the KV cache
out for max_len, so the blocks of ops that do not depend on the length (all but attention and
the cache append) are identical across buckets and are stored once.

The target's switch decides the bucket (`target_bucket_tokens`): with
`mechanisms.length_adaptive_compilation` on, `decode_bucket_tokens` (prefill:
`prefill_bucket_tokens`) lengths share a program; off, every length gets its own (a bucket of
one), so the adaptive figures equal the naive ones: the storage and compile-time reduction
FlightLLM credits to the mechanism goes away.

To stay fast, each program is compiled with one decoder layer; whole-model figures scale the
layer's blocks by the layer count (layers differ only in weight addresses, so a layer's blocks
are shared across buckets exactly as layer 0's are).
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, replace

from compiler.ir.workload import Workload
from compiler.model import ModelSpec
from compiler.pipeline import compile_model
from isa import WORD_BYTES, encode_words


@dataclass(frozen=True)
class LengthAdaptiveReport:
    max_len: int
    bucket_tokens: int
    naive_programs: int
    adaptive_programs: int
    naive_instruction_bytes: int
    adaptive_instruction_bytes: int
    naive_compile_s: float
    adaptive_compile_s: float

    @property
    def storage_reduction(self) -> float:
        return self.naive_instruction_bytes / self.adaptive_instruction_bytes

    @property
    def compile_time_reduction(self) -> float:
        return self.naive_compile_s / self.adaptive_compile_s

    def to_json(self) -> dict:
        return {**self.__dict__, "storage_reduction": self.storage_reduction,
                "compile_time_reduction": self.compile_time_reduction}


def _one_layer(model, workload, target, length, max_len):
    w = replace(workload, phase="decode", context=length - 1, layers=1, kv_capacity=max_len)
    start = time.perf_counter()
    compiled = compile_model(model, w, target)
    return compiled.program, time.perf_counter() - start


def _blocks(program) -> list[tuple[bool, str, int]]:
    """(is a layer op, content hash, bytes) per op block of the program."""
    out = []
    for op in program.metadata["ops"]:
        words = b"".join(encode_words(program.streams[q][op["first"][q.name]:
                                                         op["first"][q.name] + op["count"][q.name]])
                         for q in program.streams)
        out.append((op["layer"] is not None, hashlib.sha256(words).hexdigest(), len(words)))
    return out


def _scaled_bytes(blocks, layers: int) -> int:
    return sum(size * (layers if in_layer else 1) for in_layer, _, size in blocks)


def target_bucket_tokens(target, phase: str = "decode") -> int:
    """Lengths one program serves: the target's bucket with length-adaptive compilation on,
    1 with it off or on a target without the mechanism."""
    mech = getattr(target, "mechanisms", None)
    if not getattr(mech, "length_adaptive_compilation", False):
        return 1
    return mech.prefill_bucket_tokens if phase == "prefill" else mech.decode_bucket_tokens


def length_adaptive_report(model: ModelSpec, workload: Workload, target, max_len: int,
                           bucket_tokens: int | None = None) -> LengthAdaptiveReport:
    """Per-length vs per-bucket decode programs up to `max_len`; `bucket_tokens` None: the
    target's (`target_bucket_tokens(target)`)."""
    if bucket_tokens is None:
        bucket_tokens = target_bucket_tokens(target)
    layers = workload.layers or model.num_layers
    naive_bytes, naive_s = 0, 0.0
    for length in range(1, max_len + 1):
        program, seconds = _one_layer(model, workload, target, length, max_len)
        naive_bytes += _scaled_bytes(_blocks(program), layers)
        naive_s += seconds * layers
    unique: dict[str, tuple[bool, int]] = {}
    adaptive_s = 0.0
    buckets = math.ceil(max_len / bucket_tokens)
    for b in range(buckets):
        length = min(max_len, (b + 1) * bucket_tokens)
        program, seconds = _one_layer(model, workload, target, length, max_len)
        adaptive_s += seconds * layers
        for in_layer, digest, size in _blocks(program):
            unique[digest] = (in_layer, size)
    adaptive_bytes = sum(size * (layers if in_layer else 1) for in_layer, size in unique.values())
    return LengthAdaptiveReport(max_len, bucket_tokens, max_len, buckets, naive_bytes,
                                adaptive_bytes, naive_s, adaptive_s)


__all__ = ["LengthAdaptiveReport", "target_bucket_tokens", "length_adaptive_report", "WORD_BYTES"]
