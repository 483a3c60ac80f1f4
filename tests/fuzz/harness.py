"""The fuzz harness: run a campaign of inputs in a child process with resource limits and count
what happened to each input.

A campaign is a function `body(record, examples)` that feeds `examples` inputs (drawn by
hypothesis) to `record(label, fn, arg)`. `record` runs `fn(arg)` and files the outcome:

- accepted: it returned;
- rejected: it raised one of the project's error classes with a one-line, non-empty message
  (the contract: the CLI prints it and exits 2);
- crash: anything else (another exception, or a user error whose message spans lines);
- hang: it ran past EXAMPLE_CPU_S seconds of CPU (a SIGPROF timer), or past EXAMPLE_WALL_S of
  wall time with no return to Python (the parent kills the child);
- blow-up: MemoryError under the address-space limit (MEMORY_HEADROOM_BYTES above what the
  child had mapped at the start), or the child killed by a signal.

The child reports its tally as JSON over a pipe; the parent turns a dead child into one hang or
blow-up for the input it was running (written to a side file before each example).
"""
from __future__ import annotations

import json
import os
import resource
import signal
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field

from compiler.errors import CompilerError
from hwsim.errors import HwsimError
from isa import IsaError
from targets import TargetError

USER_ERRORS = (HwsimError, IsaError, TargetError, CompilerError)
EXAMPLE_CPU_S = 10.0
EXAMPLE_WALL_S = 120.0
MEMORY_HEADROOM_BYTES = 4 * 2**30
KEPT_FAILURES = 20
PROGRESS_EVERY = 250   # inputs between progress lines (HWSIM_FUZZ_LOG.NAME.progress)


@dataclass
class Tally:
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: int = 0
    hangs: int = 0
    blowups: int = 0
    failures: list = field(default_factory=list)   # (kind, label, input, detail), the first few
    notes: dict = field(default_factory=dict)       # per-campaign extra counts

    def line(self, name: str) -> str:
        return (f"{name}: {self.inputs} inputs, {self.accepted} accepted, {self.rejected} clean "
                f"rejections, {self.crashes} crashes, {self.hangs} hangs, {self.blowups} "
                f"blow-ups" + "".join(f", {k} {v}" for k, v in sorted(self.notes.items())))


class _Hang(BaseException):
    """Raised by the SIGPROF handler: the example ran out of CPU time."""


def _on_prof(signum, frame):
    raise _Hang()


class _Recorder:
    def __init__(self, progress_path: str, name: str):
        self.tally = Tally()
        self.progress_path = progress_path
        log = os.environ.get("HWSIM_FUZZ_LOG")
        self.counts_path = f"{log}.{name}.progress" if log else None

    def __call__(self, label: str, fn, arg, shown=None):
        """Run fn(arg) once under the limits; returns fn's result (None unless accepted)."""
        t = self.tally
        t.inputs += 1
        if self.counts_path and t.inputs % PROGRESS_EVERY == 0:  # a long run's counts so far
            with open(self.counts_path, "w") as handle:
                handle.write(t.line("so far") + "\n")
        text = _short(shown if shown is not None else arg)
        with open(self.progress_path, "w") as handle:
            handle.write(json.dumps({"label": label, "input": text}))
        signal.setitimer(signal.ITIMER_PROF, EXAMPLE_CPU_S)
        try:
            result = fn(arg)
        except _Hang:
            t.hangs += 1
            self._keep("hang", label, text, f"over {EXAMPLE_CPU_S} s CPU")
            return None
        except MemoryError:
            t.blowups += 1
            self._keep("blow-up", label, text, "MemoryError")
            return None
        except USER_ERRORS as err:
            message = str(err)
            if message and "\n" not in message:
                t.rejected += 1
                return None
            t.crashes += 1
            self._keep("crash", label, text, f"{type(err).__name__} not one line: {message!r}")
            return None
        except Exception as err:  # noqa: BLE001 -- every other exception is a crash
            t.crashes += 1
            where = traceback.extract_tb(err.__traceback__)[-1]
            self._keep("crash", label, text, f"{type(err).__name__}: {str(err)[:160]} at "
                       f"{where.filename.rsplit('/', 2)[-1]}:{where.lineno}")
            return None
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        t.accepted += 1
        return result

    def note(self, key: str, count: int = 1) -> None:
        self.tally.notes[key] = self.tally.notes.get(key, 0) + count

    def failure(self, kind: str, label: str, arg, detail: str) -> None:
        """File a failure found by a check after an accepted run (a property that broke)."""
        setattr(self.tally, kind, getattr(self.tally, kind) + 1)
        self._keep(kind, label, _short(arg), detail)

    def _keep(self, kind, label, text, detail):
        if len(self.tally.failures) < KEPT_FAILURES:
            self.tally.failures.append((kind, label, text, detail))


def run_campaign(body, examples: int, name: str = "campaign") -> Tally:
    """Run body(record, examples) in a forked child under the limits; the child's tally."""
    read_fd, write_fd = os.pipe()
    progress = tempfile.NamedTemporaryFile(prefix="hwsim-fuzz-", suffix=".json", delete=False)
    progress.close()
    pid = os.fork()
    if pid == 0:  # the child: limits, then the campaign; never returns
        os.close(read_fd)
        code = 0
        try:
            _limit_memory()
            signal.signal(signal.SIGPROF, _on_prof)
            record = _Recorder(progress.name, name)
            body(record, examples)
            payload = json.dumps(asdict(record.tally)).encode()
        except BaseException:  # noqa: BLE001 -- the harness itself failed: say how
            payload = json.dumps({"harness_error": traceback.format_exc()}).encode()
            code = 1
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write_fd)
    try:
        return _collect(pid, read_fd, progress.name)
    finally:
        os.unlink(progress.name)


def _collect(pid: int, read_fd: int, progress_path: str) -> Tally:
    chunks = []
    os.set_blocking(read_fd, False)
    status = None
    while status is None:
        chunks += _drain(read_fd)
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.time() - os.stat(progress_path).st_mtime > EXAMPLE_WALL_S:
            os.kill(pid, signal.SIGKILL)   # stuck outside Python: the parent ends it
            _, status = os.waitpid(pid, 0)
        else:
            time.sleep(0.05)
    chunks += _drain(read_fd)
    os.close(read_fd)
    data = b"".join(chunks)
    if data and os.WIFEXITED(status):
        raw = json.loads(data)
        if "harness_error" in raw:
            raise AssertionError("fuzz harness failed:\n" + raw["harness_error"])
        return Tally(**raw)
    with open(progress_path) as handle:
        last = json.loads(handle.read() or "{}")
    signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    kind = "hangs" if signum in (signal.SIGKILL, signal.SIGXCPU) else "blowups"
    tally = Tally(inputs=1, **{kind: 1})
    tally.failures.append((kind, last.get("label"), last.get("input"),
                           f"child ended by signal {signum} (status {status})"))
    return tally


def _drain(fd: int) -> list[bytes]:
    out = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out.append(chunk)


def _limit_memory() -> None:
    with open("/proc/self/statm") as handle:
        mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = mapped + MEMORY_HEADROOM_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _short(value, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"
