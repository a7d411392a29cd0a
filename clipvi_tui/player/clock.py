"""The playback clock: which frame should be on screen now (pure, no Textual).

Position is computed from wall time since play started, never by counting ticks, so a late or
skipped tick (the UI was busy painting) makes the picture skip frames instead of slowing the video.
"""

from __future__ import annotations

import math


class PlaybackClock:
    """Maps wall-clock time to a raw frame index while playing."""

    def __init__(self, fps: float, frame_count: int) -> None:
        """Create a stopped clock for a video of ``frame_count`` frames at ``fps``."""
        self.fps = fps if fps > 0 else 25.0
        self.frame_count = max(1, frame_count)
        self._origin_frame = 0
        self._origin_time = 0.0

    def start(self, frame: int, now: float) -> None:
        """Start (or restart after a seek) counting from ``frame`` at time ``now``."""
        self._origin_frame = frame
        self._origin_time = now

    def position(self, now: float) -> int:
        """The frame due at ``now``, clamped to the last frame."""
        elapsed = max(0.0, now - self._origin_time)
        frame = self._origin_frame + math.floor(elapsed * self.fps + 1e-9)
        return min(frame, self.frame_count - 1)

    def at_end(self, frame: int) -> bool:
        """True when ``frame`` is the last frame."""
        return frame >= self.frame_count - 1
