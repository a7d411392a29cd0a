"""Frame delivery for the player: a latest-wins mailbox and the decode-and-shrink step.

The UI thread puts a :class:`FrameRequest` in the :class:`FrameMailbox` whenever the position or
the video box changes; one decoder thread takes only the newest request, so requests that pile up
while it works (fast playback, a held arrow key) are skipped instead of queued. At most one decoded
frame is on its way to the UI at a time: the decoder hands a frame over only after the UI said the
previous one was painted (or dropped), so a slow terminal makes the app drop display frames, never
fall behind with a queue of old ones. Decoding the next frame overlaps with painting this one.

No widgets here: the screen runs :func:`pump_frames` on a thread worker, which posts each decoded
frame as a :class:`~clipvi_tui.player.messages.FrameDecoded` message for the screen to paint.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from clipvi_tui.core.video import VideoError, VideoReader
from clipvi_tui.player.geometry import FrameGeometry, fit_frame
from clipvi_tui.player.messages import FrameDecoded, FrameFailed

# If the UI never acknowledges a frame (its screen is covered by a dialog and does not refresh),
# decode the next request anyway after this long.
ACK_TIMEOUT_S = 0.5
# Recently shown frames kept ready for stepping back and forth (small images: a few KiB each).
LRU_SIZE = 12


@dataclass(frozen=True)
class FrameRequest:
    """Show raw frame ``frame`` in a ``cols`` × ``rows`` cell box.

    ``generation`` counts the user's seeks: a frame decoded for an older generation is stale and is
    dropped by the UI, while frames of the current generation (normal playback) are painted even
    if the clock has moved on a little, which is better than a frozen picture.
    """

    frame: int
    generation: int
    cols: int
    rows: int


@dataclass(frozen=True)
class DecodedFrame:
    """A frame ready to paint, with the request it answers and how long it took.

    ``image`` is whatever the video view's widget takes for its mode (a PIL image for
    textual-image, prebuilt lines for the half-block widget), made on the decoder thread.
    """

    request: FrameRequest
    image: Any
    geometry: FrameGeometry
    seconds: float


class FrameMailbox:
    """A one-slot, latest-wins hand-over of frame requests from the UI to the decoder thread.

    Two stages overlap: the decoder may decode the newest request while the UI still paints the
    previous frame, but it hands over (``claim``) only once that frame was painted. So at most
    one decoded frame waits for the UI, and decoding and painting run in parallel.
    """

    def __init__(self) -> None:
        """Create an empty, open mailbox."""
        self._cond = threading.Condition()
        self._latest: FrameRequest | None = None
        self._in_flight = False
        self._sent_at = 0.0
        self._closed = False

    def request(self, req: FrameRequest) -> None:
        """Replace whatever request is waiting with ``req`` (any thread)."""
        with self._cond:
            self._latest = req
            self._cond.notify_all()

    def take(self, timeout: float) -> FrameRequest | None:
        """Wait up to ``timeout`` s for the newest request (decoder thread)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closed:
                if self._latest is not None:
                    req, self._latest = self._latest, None
                    return req
                now = time.monotonic()
                if now >= deadline:
                    return None
                self._cond.wait(min(deadline - now, 0.05))
            return None

    def claim(self, req: FrameRequest) -> bool:
        """Wait until the UI painted the previous frame, then reserve the way to the UI for the
        frame decoded for ``req`` (decoder thread).

        Returns:
            False if the frame should not be sent after all: the mailbox closed, or the user
            sought elsewhere meanwhile (a request of a newer generation is waiting), in which
            case sending it would only cost the UI a round trip to drop it.
        """
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if not self._in_flight or now - self._sent_at > ACK_TIMEOUT_S:
                    break
                self._cond.wait(min(ACK_TIMEOUT_S - (now - self._sent_at), 0.05))
            if self._closed:
                return False
            newer = self._latest
            if newer is not None and newer.generation > req.generation:
                return False
            self._in_flight, self._sent_at = True, time.monotonic()
            return True

    def painted(self) -> None:
        """The UI is done with the last frame (painted or dropped): the decoder may go on."""
        with self._cond:
            self._in_flight = False
            self._cond.notify_all()

    def close(self) -> None:
        """Wake and stop the decoder."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed


class FrameRenderer:
    """Decodes and shrinks frames for one graphics mode (use from a single thread)."""

    def __init__(
        self,
        video: Path,
        mode: str,
        cell_px: tuple[int, int],
        prepare: Callable[[np.ndarray], Any],
    ) -> None:
        """Open the video.

        Args:
            video: the file.
            mode: graphics mode (decides the pixel size per cell).
            cell_px: cell size in the mode's units.
            prepare: turns the scaled RGB frame into what the view paints (runs here, on the
                decoder thread, so the UI thread only swaps it in).

        Raises:
            VideoError: if it cannot be opened.
        """
        self.mode = mode
        self.cell_px = cell_px
        self.prepare = prepare
        self._reader = VideoReader(video)
        self._lru: OrderedDict[tuple[int, int, int], DecodedFrame] = OrderedDict()

    def close(self) -> None:
        """Release the decoder."""
        self._reader.close()

    def __enter__(self) -> FrameRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self, req: FrameRequest) -> DecodedFrame:
        """Decode ``req.frame`` and scale it to the cell box (from the LRU when it was seen).

        Raises:
            VideoError: if the frame cannot be decoded.
        """
        key = (req.frame, req.cols, req.rows)
        hit = self._lru.get(key)
        if hit is not None:
            self._lru.move_to_end(key)
            return DecodedFrame(req, hit.image, hit.geometry, 0.0)
        started = time.perf_counter()
        bgr = self._reader.read(req.frame)
        info = self._reader.info
        geo = fit_frame(self.mode, info.width, info.height, req.cols, req.rows, self.cell_px)
        image = self.prepare(to_rgb(bgr, geo.pixels_w, geo.pixels_h))
        out = DecodedFrame(req, image, geo, time.perf_counter() - started)
        self._lru[key] = out
        if len(self._lru) > LRU_SIZE:
            self._lru.popitem(last=False)
        return out


def to_rgb(bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale an OpenCV BGR frame to ``width`` × ``height`` and return it as RGB.

    INTER_AREA averages when shrinking (no aliasing shimmer in half blocks); INTER_LINEAR when
    growing a small video to a big kitty/sixel box.
    """
    h, w = bgr.shape[:2]
    if (w, h) != (width, height):
        shrink = width * height < w * h
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        bgr = cv2.resize(bgr, (max(1, width), max(1, height)), interpolation=interp)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def pump_frames(
    mailbox: FrameMailbox,
    renderer: FrameRenderer,
    post: Callable[[Any], object],
    cancelled: Callable[[], bool],
) -> None:
    """Decode the newest requested frame and post it once the previous one was painted.

    Runs until the mailbox closes or ``cancelled()`` turns true (decoder thread).
    """
    while not cancelled() and not mailbox.closed:
        req = mailbox.take(timeout=0.2)
        if req is None:
            continue
        try:
            decoded = renderer.render(req)
        except VideoError as exc:
            if mailbox.claim(req):
                post(FrameFailed(req, str(exc)))
            continue
        if mailbox.claim(req):
            post(FrameDecoded(decoded))
