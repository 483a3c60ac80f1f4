"""Sweep processes that do not outlive their sweep, and one sweep per output file.

- `die_with_parent` is the initializer of every local pool worker. A SIGKILLed sweep runs no
  cleanup, so its pool would otherwise keep running (and computing) with no one to read the
  results. On Linux the kernel sends the worker SIGKILL when its parent dies
  (prctl PR_SET_PDEATHSIG); everywhere, a daemon thread checks every WATCH_S seconds that the
  parent is still the same process and exits the worker when it is not.
- `output_lock` holds an exclusive lock (flock) on OUTPUT.lock for the whole sweep: a second
  sweep to the same output is refused at once with one line, before it writes anything, instead
  of both appending to one journal and losing rows.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import threading
import time

from hwsim.errors import HwsimError

WATCH_S = 0.5
LOCK_SUFFIX = ".lock"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Make this (worker) process end when the process that started it ends."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="die-with-parent", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    os._exit(1)


@contextlib.contextmanager
def output_lock(output: str):
    """Hold OUTPUT.lock exclusively while the block runs; HwsimError if another sweep holds it."""
    import fcntl
    path = output + LOCK_SUFFIX
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise HwsimError(f"-o {output}: another sweep is writing this output (it holds "
                                 f"{path}); wait for it or choose another output") from None
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed the file as we opened it: lock the new one
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
