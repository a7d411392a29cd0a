"""Progress on stderr and Ctrl-C handling for the long-running commands (``index``, ``export``)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from clipvi_tui.core.indexer import Progress


def bar_of(fraction: float, width: int = 30) -> str:
    """``[#########.....]`` for a fraction between 0 and 1."""
    fill = int(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * fill + "." * (width - fill) + "]"


class ProgressBar:
    """A one-line progress bar on stderr (plain lines every few seconds when not a terminal)."""

    def __init__(
        self, stream: TextIO, label: str, servers: Callable[[], str] | None = None
    ) -> None:
        """Draw on ``stream``; ``servers`` returns the servers part (``servers 2/2``), if any."""
        self.stream = stream
        self.label = label
        self.servers = servers
        self.tty = stream.isatty()
        self._last = 0.0
        self._lock = threading.Lock()
        self.started = time.monotonic()

    def note(self, text: str) -> None:
        """Print one line of news above the bar (the bar redraws on the next update)."""
        with self._lock:
            self.stream.write(("\r\x1b[2K" if self.tty else "") + text + "\n")
            self.stream.flush()
            self._last = 0.0

    def update(self, p: Progress) -> None:
        """Redraw, at most 10 times a second (every 2 s without a terminal)."""
        note = f"  ({p.error})" if p.state == "retrying" and p.error else ""
        frac = p.done / p.total if p.total else 1.0
        self.draw(
            f"{self.label} {bar_of(frac)} {p.done}/{p.total} frames {frac:6.1%}  "
            f"{p.frames_per_s:6.1f} frames/s{self._servers_part()}{note}",
            p.finished,
        )

    def draw(self, line: str, finished: bool) -> None:
        """Show ``line`` as the bar, throttled unless ``finished`` (which ends the line)."""
        now = time.monotonic()
        with self._lock:
            if not finished and now - self._last < (0.1 if self.tty else 2.0):
                return
            self._last = now
            if self.tty:
                self.stream.write("\r\x1b[2K" + line)
                if finished:
                    self.stream.write("\n")
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def _servers_part(self) -> str:
        return f"  {self.servers()}" if self.servers is not None else ""


class Cancellable(Protocol):
    """Anything a Ctrl-C can stop cleanly (an :class:`Indexer`, a library run)."""

    def cancel(self) -> None:
        """Stop soon, keeping what was done."""
        ...


@contextmanager
def cancel_on_sigint(indexer: Cancellable) -> Iterator[None]:
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
