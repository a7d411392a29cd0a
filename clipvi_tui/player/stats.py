"""The player's counters: display rate, seek latency, dropped frames (pure, no Textual).

Shown in the status bar and written for ``bench/`` by the launcher (``CLIPVI_BENCH_STATS``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

# Display rate is averaged over this window.
FPS_WINDOW_S = 2.0


@dataclass
class PlayerStats:
    """Counters for the status bar and ``bench/`` (display rate, seek latency, dropped frames)."""

    paints: int = 0
    dropped: int = 0
    seek_latencies: list[float] = field(default_factory=list)
    # Per seek: (seconds until the decoded frame reached the UI thread, decode+prepare seconds).
    seek_arrivals: list[tuple[float, float]] = field(default_factory=list)
    paint_times: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    # Per seek answered by a preview first: seconds until the preview was painted.
    preview_latencies: list[float] = field(default_factory=list)
    # Seek key → first new picture on screen (preview or exact), per seek.
    first_picture_latencies: list[float] = field(default_factory=list)
    # Every chart build: (time.monotonic(), scores it drew), to time "whole chart shown".
    chart_builds: list[tuple[float, int]] = field(default_factory=list)

    def display_fps(self, now: float) -> float:
        """Frames painted per second over the last :data:`FPS_WINDOW_S`."""
        recent = [t for t in self.paint_times if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
