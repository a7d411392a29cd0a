"""Frame delivery for the player: a latest-wins mailbox and the decode-and-shrink step.

The UI thread puts a :class:`FrameRequest` in the :class:`FrameMailbox` whenever the position or
the video box changes; one decoder thread takes only the newest request, so requests that pile up
while it works (fast playback, a held arrow key) are skipped instead of queued. At most one decoded
frame is on its way to the UI at a time: the decoder hands a frame over only after the UI said the
previous one was painted (or dropped), so a slow terminal makes the app drop display frames, never
fall behind with a queue of old ones. Decoding the next frame overlaps with painting this one.

No widgets here: the screen runs :func:`pump_frames` on a thread worker, which posts each decoded
frame as a :class:`~clipvi_tui.player.messages.FrameDecoded` message for the screen to paint. The
decoding and shrinking itself is :class:`~clipvi_tui.player.renderer.FrameRenderer`'s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from clipvi_tui.core.video import DecodeInterrupted, VideoError
from clipvi_tui.player.geometry import FrameGeometry
from clipvi_tui.player.messages import FrameDecoded, FrameFailed

# If the UI never acknowledges a frame (its screen is covered by a dialog and does not refresh),
# decode the next request anyway after this long.
ACK_TIMEOUT_S = 0.5
# While playing, the decoder runs this many frames ahead of the last request when idle.
PREFETCH_FRAMES = 8


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
    playing: bool = False
    origin: int = -1  # the frame a prefetch run started from (decoder-side bookkeeping)

    def __post_init__(self) -> None:
        if self.origin < 0:
            object.__setattr__(self, "origin", self.frame)


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

    def overtaken(self, req: FrameRequest) -> bool:
        """True when a request of a newer generation (a later seek) is waiting (any thread)."""
        newer = self._latest
        return newer is not None and newer.generation > req.generation

    def waiting(self) -> bool:
        """True when any request is waiting (so prefetching should stop)."""
        return self._latest is not None or self._closed

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


class Renderer(Protocol):
    """What :func:`pump_frames` needs from the renderer (see :mod:`clipvi_tui.player.renderer`)."""

    def render(
        self, req: FrameRequest, interrupt: Callable[[], bool] | None = None
    ) -> DecodedFrame:
        """The exact frame for ``req``."""
        ...

    def expensive(self, req: FrameRequest) -> bool:
        """True when the exact frame takes a long decode."""
        ...

    def preview(self, req: FrameRequest) -> DecodedFrame | None:
        """A quick stand-in for ``req``'s frame, if there is one."""
        ...

    def prefetch(self, req: FrameRequest, interrupt: Callable[[], bool]) -> None:
        """Decode ``req``'s frame ahead of time."""
        ...


def pump_frames(
    mailbox: FrameMailbox,
    renderer: Renderer,
    post: Callable[[Any], object],
    cancelled: Callable[[], bool],
) -> None:
    """Decode the newest requested frame and post it once the previous one was painted.

    A request whose frame takes a long decode (a seek through a GOP) gets a preview first, and
    its decode stops as soon as a newer seek arrives. While playing and idle, the next frames are
    decoded ahead into the renderer's cache. Runs until the mailbox closes or ``cancelled()``
    turns true (decoder thread).
    """
    ahead: FrameRequest | None = None  # the last playback request, to prefetch after
    while not cancelled() and not mailbox.closed:
        req = mailbox.take(timeout=0.005 if ahead is not None else 0.2)
        if req is None:
            ahead = _prefetch_next(mailbox, renderer, ahead)
            continue
        ahead = req if req.playing else None
        sought_on = lambda r=req: mailbox.overtaken(r)  # noqa: E731
        if not req.playing and renderer.expensive(req):
            preview = renderer.preview(req)
            if preview is not None and mailbox.claim(req):
                post(FrameDecoded(preview, preview=True))
        try:
            decoded = renderer.render(req, sought_on)
        except DecodeInterrupted:
            continue
        except VideoError as exc:
            if mailbox.claim(req):
                post(FrameFailed(req, str(exc)))
            continue
        if mailbox.claim(req):
            post(FrameDecoded(decoded))


def _prefetch_next(
    mailbox: FrameMailbox, renderer: Renderer, last: FrameRequest | None
) -> FrameRequest | None:
    """Decode one frame after ``last`` into the cache; the request to prefetch after next."""
    if last is None or last.frame - last.origin >= PREFETCH_FRAMES:
        return None
    nxt = FrameRequest(last.frame + 1, last.generation, last.cols, last.rows, True, last.origin)
    try:
        renderer.prefetch(nxt, mailbox.waiting)
    except (DecodeInterrupted, VideoError):
        return None
    return nxt
