"""A one-line progress bar on stderr, drawn only when stderr is a terminal (quiet otherwise)."""
from __future__ import annotations

import sys
import time

WIDTH = 30
REDRAW_S = 0.1


class Progress:
    def __init__(self, total: int, done: int = 0, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.done, self.errors = total, done, 0
        self._first, self._start, self._drawn = done, time.monotonic(), 0.0

    def update(self, rows: int, errors: int) -> None:
        self.done += rows
        self.errors += errors
        if self.enabled and time.monotonic() - self._drawn >= REDRAW_S:
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn = now = time.monotonic()
        fraction = self.done / self.total if self.total else 1.0
        bar = "#" * int(fraction * WIDTH)
        rate = (self.done - self._first) / max(now - self._start, 1e-9) * 60
        left = (self.total - self.done) / (rate / 60) if rate else 0.0
        self.stream.write(f"\r[{bar:<{WIDTH}}] {self.done:,}/{self.total:,} points, "
                          f"{self.errors:,} errors, {rate:,.0f} points/min, {left:.0f} s left ")
        self.stream.flush()
