"""The playback clock: which frame should be on screen now (pure, no Textual).

Position is computed from wall time since play started and the frames' presentation timestamps,
never by counting ticks or frames: a late or skipped tick (the UI was busy painting) makes the
picture skip frames instead of slowing the video, and a variable-frame-rate video plays at its
real speed (a 10 fps stretch shows each frame for 0.1 s, a 30 fps stretch for 1/30 s).
"""

from __future__ import annotations

import numpy as np


class PlaybackClock:
    """Maps wall-clock time to a frame index while playing."""

    def __init__(self, fps: float, frame_count: int, times: np.ndarray | None = None) -> None:
        """Create a stopped clock.

        Args:
            fps: nominal rate, used for the frame times when ``times`` is not given.
            frame_count: number of frames.
            times: each frame's presentation time in seconds (``VideoInfo.times``).
        """
        self.fps = fps if fps > 0 else 25.0
        self.frame_count = max(1, frame_count)
        if times is None or len(times) != frame_count or frame_count == 0:
            times = np.arange(self.frame_count, dtype=np.float64) / self.fps
        self.times = np.asarray(times, dtype=np.float64)
        self._origin_frame = 0
        self._origin_time = 0.0

    @property
    def tick_hz(self) -> float:
        """How often the position can change: the fastest stretch of the video's frame rate."""
        if len(self.times) < 2:
            return self.fps
        steps = np.diff(self.times)
        steps = steps[steps > 0]
        return float(1.0 / np.percentile(steps, 5)) if len(steps) else self.fps

    def start(self, frame: int, now: float) -> None:
        """Start (or restart after a seek) counting from ``frame`` at time ``now``."""
        self._origin_frame = max(0, min(self.frame_count - 1, int(frame)))
        self._origin_time = now

    def position(self, now: float) -> int:
        """The frame due at ``now`` (the last one whose time has come), clamped to the video."""
        elapsed = max(0.0, now - self._origin_time)
        due = self.times[self._origin_frame] + elapsed
        frame = int(np.searchsorted(self.times, due + 1e-9, side="right")) - 1
        return max(self._origin_frame, min(frame, self.frame_count - 1))

    def at_end(self, frame: int) -> bool:
        """True when ``frame`` is the last frame."""
        return frame >= self.frame_count - 1
