"""Frames per second over the last few seconds: the rate an indexing run reports."""

from __future__ import annotations

import threading
import time
from collections import deque

# Window over which frames/s is measured.
RATE_WINDOW_S = 3.0
# Shortest span a rate is divided by, so the first write does not read as a huge rate.
MIN_SPAN_S = 0.25


class Throughput:
    """Counts of frames stored, with when; the rate over :data:`RATE_WINDOW_S` (thread-safe)."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        self._lock = threading.Lock()
        self._events: deque[tuple[float, int]] = deque()

    def add(self, frames: int, now: float | None = None) -> None:
        """Count ``frames`` stored at ``now`` (default: the monotonic clock's now)."""
        with self._lock:
            self._events.append((time.monotonic() if now is None else now, frames))

    def frames_per_s(self) -> float:
        """Frames per second over the window; 0.0 when nothing was counted within it."""
        now = time.monotonic()
        with self._lock:
            while self._events and now - self._events[0][0] > RATE_WINDOW_S:
                self._events.popleft()
            if not self._events:
                return 0.0
            count = sum(n for _, n in self._events)
            span = max(now - self._events[0][0], MIN_SPAN_S)
        return count / span
