"""The DRAM transfers of one simulate call, captured and replayed alone (issue #15).

    python benchmarks/dram_replay.py capture OUT.pkl    # LLaMA2-7B decode, context 512, U280
    python benchmarks/dram_replay.py replay OUT.pkl [N]  # min / median CPU ms of N replays

`capture` runs the call once with NUMBA_DISABLE_JIT=1 (about 20 s) and records every
`dram_transfer` the engine makes (its memory's params, the state before the first one, each
transfer's arguments). `replay` feeds them to the compiled `dram_transfer` in one numba loop
from that state, so the memory model is timed without the compiler or the rest of the engine,
and prints a digest of every result and the final state: equal digests before and after a
change to hwsim/memory mean the same floats, transfer for transfer. Counters from the stats
array: closed-form chunks (hwsim.memory.stream) and bursts. Nothing here asserts.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time


def capture(path: str) -> None:
    os.environ["NUMBA_DISABLE_JIT"] = "1"  # before numba is imported: the engine runs in Python
    import hwsim
    import hwsim.timing.engine as engine
    from hwsim.memory import kernel
    runs = []  # one per params array the engine passes (one memory per engine run)

    def recorded(params, bank_state, chan_state, stats, *args):
        if not runs or runs[-1][0] is not params:
            runs.append((params, bank_state.copy(), chan_state.copy(), stats.copy(), []))
        runs[-1][4].append(args)
        return kernel.dram_transfer(params, bank_state, chan_state, stats, *args)
    engine.dram_transfer = recorded
    hwsim.simulate("llama2-7b", "flightllm-u280", phase="decode", context=512)
    with open(path, "wb") as f:
        pickle.dump([(p.copy(), b, c, s, t) for p, b, c, s, t in runs], f)
    print(f"{sum(len(r[4]) for r in runs)} transfers in {len(runs)} run(s) -> {path}")


def replay(path: str, repeats: int) -> None:
    import numpy as np
    from numba import njit

    from hwsim.memory.kernel import S_BURSTS, S_CLOSED_FORM_CHUNKS, dram_transfer

    @njit
    def run(params, bank_state, chan_state, stats, args, write, out):
        for i in range(args.shape[0]):
            out[i] = dram_transfer(params, bank_state, chan_state, stats, args[i, 0],
                                   np.int64(args[i, 1]), np.int64(args[i, 2]),
                                   np.int64(args[i, 3]), np.int64(args[i, 4]), write[i])

    with open(path, "rb") as f:
        runs = pickle.load(f)
    for params, bank0, chan0, stats0, transfers in runs:
        args = np.array([t[:5] for t in transfers], dtype=np.float64)  # exact below 2^53
        write = np.array([t[5] for t in transfers], dtype=np.bool_)
        times = []
        for k in range(repeats + 1):  # the first compiles
            bank, chan, stats, out = bank0.copy(), chan0.copy(), stats0.copy(), \
                np.empty(len(args))
            start = time.process_time()
            run(params, bank, chan, stats, args, write, out)
            if k:
                times.append(time.process_time() - start)
        digest = hashlib.sha256(b"".join(a.tobytes() for a in (bank, chan, stats, out)))
        times.sort()
        print(f"{len(args)} transfers: min {times[0] * 1e3:.2f} ms, median "
              f"{times[len(times) // 2] * 1e3:.2f} ms of {repeats}; digest "
              f"{digest.hexdigest()[:16]}; closed-form chunks {int(stats[S_CLOSED_FORM_CHUNKS])}"
              f", bursts {int(stats[S_BURSTS])}")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("capture", "replay"):
        sys.exit(__doc__)
    if sys.argv[1] == "capture":
        capture(sys.argv[2])
    else:
        replay(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 12)
