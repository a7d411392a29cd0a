"""What an indexing run reports: a :class:`Progress` snapshot after every write and at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Progress:
    """A snapshot of indexing, handed to the progress callback.

    Attributes:
        done: sampled frames that have a cached vector.
        total: sampled frames in the video.
        frames_per_s: embedding throughput over the last few seconds.
        state: ``running``, ``retrying`` (server trouble, will try again), ``done``,
            ``cancelled`` or ``failed``.
        error: the last error message, if any.
        stored: raw frame indices stored by the write that triggered this report.
    """

    done: int
    total: int
    frames_per_s: float = 0.0
    state: str = "running"
    error: str | None = None
    stored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def finished(self) -> bool:
        """True once the run has ended, for whatever reason."""
        return self.state in ("done", "cancelled", "failed")


ProgressCallback = Callable[[Progress], None]
