"""Turning decoded frames into uploads (and thumbnails) on a small pool of threads.

The indexer's decoder thread only drives the decoder; converting a sampled 720p frame to what is
uploaded (full-size BGR, centre square, area-shrunk to 224 px) costs ≈1.5–2 ms, as much as
decoding it, so doing it on the decoder thread capped indexing at ≈350 frames/s while the server
could take ≈550. Conversions run here in parallel instead (OpenCV and swscale release the GIL),
with a bound on how many decoded pictures may wait for a converter, so memory stays flat (a 4K
picture is 12 MB).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from clipvi_tui.core.media import upright
from clipvi_tui.core.thumbnails import make_thumbnail
from clipvi_tui.core.video import to_bgr

Converted = tuple[np.ndarray, bytes | None]  # (upload, thumbnail JPEG or None)

# Converter threads: two keep up with one decoder on 2 cores.
CONVERTERS = 2
# Decoded pictures that may wait for a converter (bounded memory: 4 × 12 MB in 4K).
MAX_WAITING = 4


class FrameConverter:
    """Converts decoded PyAV frames to upload arrays (and thumbnails) on worker threads."""

    def __init__(
        self,
        rotation: int,
        prepare: Callable[[np.ndarray], np.ndarray] | None,
        *,
        thumbnails: bool = False,
    ) -> None:
        """Prepare a pool (threads start on the first submit, inheriting the caller's OS name
        and priority).

        Args:
            rotation: clockwise degrees to turn frames upright.
            prepare: the embedding client's shrink step (None: full-size BGR is uploaded).
            thumbnails: also make a JPEG thumbnail of every frame.
        """
        self.rotation = rotation
        self.prepare = prepare
        self.thumbnails = thumbnails
        self._pool = ThreadPoolExecutor(CONVERTERS, thread_name_prefix="clipvi-convert")
        self._slots = threading.BoundedSemaphore(MAX_WAITING)

    def submit(self, frame: Any) -> Future[Converted]:
        """Queue ``frame`` for conversion; blocks while :data:`MAX_WAITING` frames wait."""
        self._slots.acquire()
        try:
            future = self._pool.submit(self._convert, frame)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return future

    def close(self) -> None:
        """Finish queued conversions and stop the threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _convert(self, frame: Any) -> Converted:
        thumb = make_thumbnail(frame, self.rotation) if self.thumbnails else None
        if self.prepare is None:
            return to_bgr(frame, self.rotation), thumb
        # Shrink first, turn upright after: the upload is the centre square of the short side
        # whatever the orientation, so its pixels are the same (odd sizes: ±1 level), while
        # turning a full 1080p frame costs ~8× the whole shrink (a 6 MB transposing copy).
        return upright(self.prepare(frame.to_ndarray(format="bgr24")), self.rotation), thumb
