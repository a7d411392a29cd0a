"""Which sampled frames of one video an indexing run still has to embed, playhead first.

The decoder claims batches from the :class:`IndexSchedule`: the frames not cached yet from the
playhead forward, then from the start. A batch that fails (or that a seek left far behind) is
given back and claimed again later; the schedule counts batches in flight so the decoder knows
when none can come back. Every method is safe to call from any thread of the pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np


class IndexSchedule:
    """The todo set over a video's sampled frames, the playhead, and what is in flight."""

    def __init__(self, sampled: np.ndarray, cached: np.ndarray) -> None:
        """Schedule the ``sampled`` raw frame indices that ``cached`` does not hold.

        Args:
            sampled: the raw frame indices to embed, ascending.
            cached: raw frame indices already in the cache.
        """
        self.sampled = sampled
        self._lock = threading.Lock()
        self._playhead_pos = 0
        self._playhead_moves = 0
        self._in_flight = 0  # claimed batches not yet written or given back
        self._todo = ~np.isin(sampled, cached)
        self._done = int((~self._todo).sum())

    @property
    def total(self) -> int:
        """Sampled frames in the video."""
        return len(self.sampled)

    @property
    def done(self) -> int:
        """Sampled frames already cached."""
        return self._done

    @property
    def playhead_moves(self) -> int:
        """How many times the playhead has moved (a batch remembers it when it is claimed)."""
        return self._playhead_moves

    def any_left(self) -> bool:
        """True while some sampled frame is neither cached nor claimed."""
        return bool(self._todo.any())

    def set_playhead(self, frame: int) -> None:
        """Claim frames from raw frame ``frame`` onwards next."""
        pos = int(np.searchsorted(self.sampled, frame))
        with self._lock:
            new = min(pos, max(0, self.total - 1))
            if new != self._playhead_pos:
                self._playhead_pos = new
                self._playhead_moves += 1

    def claim(self, size: int) -> list[int]:
        """Claim the next batch: todo positions from the playhead forward, else from the start.

        Returns:
            Up to ``size`` positions into :attr:`sampled`; empty when nothing is unclaimed.
        """
        with self._lock:
            start = self._playhead_pos
            ahead = np.flatnonzero(self._todo[start:])[:size] + start
            picks = ahead if len(ahead) else np.flatnonzero(self._todo[:start])[:size]
            self._todo[picks] = False
            if len(picks):
                self._in_flight += 1
            return [int(p) for p in picks]

    def stale(self, positions: Sequence[int], moves: int, window: int) -> bool:
        """True when a seek since a batch was claimed left it far from the new playhead.

        Decoding is cheap next to embedding, so throwing such a batch back (it is claimed again
        later) makes a seek take effect at once instead of after the queued batches.

        Args:
            positions: the batch's positions.
            moves: :attr:`playhead_moves` when the batch was claimed.
            window: how many positions from the playhead on still count as near.
        """
        with self._lock:
            if moves == self._playhead_moves:
                return False
            start = self._playhead_pos
            return not any(start <= p < start + window for p in positions)

    def release(self, positions: Sequence[int]) -> None:
        """Give a batch's positions back to the todo set (it failed and will be retried)."""
        with self._lock:
            self._todo[list(positions)] = True
            self._in_flight -= 1

    def stored(self, frames: int, batches: int) -> None:
        """``batches`` holding ``frames`` frames in all were written to the cache."""
        with self._lock:
            self._done += frames
            self._in_flight -= batches

    def dropped(self, batches: int) -> None:
        """``batches`` could not be written and will not come back (the run is stopping)."""
        with self._lock:
            self._in_flight -= batches

    def settled(self) -> bool:
        """True when nothing is unclaimed and no batch is in flight, so none can come back."""
        with self._lock:
            return self._in_flight == 0 and not self._todo.any()
