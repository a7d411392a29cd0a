"""Progress on stderr and Ctrl-C handling for the long-running commands (``index``, ``export``)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from clipvi_tui.core.indexer import Indexer, Progress


class ProgressBar:
    """A one-line progress bar on stderr (plain lines every few seconds when not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.tty = stream.isatty()
        self._last = 0.0
        self._lock = threading.Lock()
        self.started = time.monotonic()

    def update(self, p: Progress) -> None:
        """Redraw, at most 10 times a second (every 2 s without a terminal)."""
        now = time.monotonic()
        with self._lock:
            if not p.finished and now - self._last < (0.1 if self.tty else 2.0):
                return
            self._last = now
            frac = p.done / p.total if p.total else 1.0
            width = 30
            fill = int(frac * width)
            bar = "#" * fill + "." * (width - fill)
            note = f"  ({p.error})" if p.state == "retrying" and p.error else ""
            line = (
                f"{self.label} [{bar}] {p.done}/{p.total} frames {frac:6.1%}  "
                f"{p.frames_per_s:6.1f} frames/s{note}"
            )
            if self.tty:
                self.stream.write("\r\x1b[2K" + line)
                if p.finished:
                    self.stream.write("\n")
            else:
                self.stream.write(line + "\n")
            self.stream.flush()


@contextmanager
def cancel_on_sigint(indexer: Indexer) -> Iterator[None]:
    """Turn Ctrl-C into a clean cancel: stop decoding, keep what was embedded."""
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: object) -> None:
        indexer.cancel()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (tests): no signal handling needed
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
