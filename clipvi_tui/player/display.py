"""Which frame the video view should show, and whether a decoded frame is still wanted (no widgets).

The screen asks for frames through a :class:`FrameDisplay`, which also runs the decoder thread (a
Textual thread worker of the screen); the decoder answers through the mailbox;
:meth:`FrameDisplay.accept` decides whether an answer is painted or dropped as stale, and the
display keeps the counters (seek latency, dropped frames, paint times) in
:class:`~clipvi_tui.player.stats.PlayerStats`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.worker import get_current_worker

from clipvi_tui.core.process import name_os_thread
from clipvi_tui.player.background import WorkerHost
from clipvi_tui.player.frames import DecodedFrame, FrameMailbox, FrameRequest, pump_frames
from clipvi_tui.player.renderer import FrameRenderer
from clipvi_tui.player.stats import PlayerStats


class FrameDisplay:
    """Frame requests out, decoded frames in: the UI thread's side of the frame pipeline."""

    def __init__(self, mailbox: FrameMailbox, stats: PlayerStats) -> None:
        """Serve the screen through ``mailbox`` and count into ``stats``."""
        self.mailbox = mailbox
        self.stats = stats
        self.generation = 0  # bumped on every user seek; older decoded frames are stale
        self._seek_started: tuple[int, float] | None = None
        self._first_shown = False
        self._shown_frame = -1

    def start_decoder(self, host: WorkerHost, make_renderer: Callable[[], FrameRenderer]) -> None:
        """Run the decoder as a thread worker of ``host`` until the mailbox closes: it decodes
        the newest requested frame and posts it once the previous one was painted."""

        def decode() -> None:
            worker = get_current_worker()
            name_os_thread("clipvi-display")
            with make_renderer() as renderer:
                cancelled = lambda: worker.is_cancelled  # noqa: E731
                pump_frames(self.mailbox, renderer, host.post_message, cancelled)

        host.run_worker(
            decode, name="frame decoder", group="decoder", thread=True, exit_on_error=False
        )

    def seeked(self) -> None:
        """The user moved the position: frames decoded for the old one are stale from now on."""
        self.generation += 1
        self._seek_started = (self.generation, time.perf_counter())
        # The "never jump back while playing" rule holds within one seek only: after a seek
        # back (replay from the end) the frames of the new position are all earlier than the
        # one on screen and must be painted, not dropped until playback passes it again.
        self._shown_frame = -1
        self._first_shown = False

    def request(self, frame: int, cols: int, rows: int, *, playing: bool = False) -> None:
        """Ask the decoder for raw ``frame`` in a ``cols`` × ``rows`` cell box (``playing``: the
        next frames will be asked for soon, so the decoder may work ahead)."""
        if cols > 0 and rows > 0:
            self.mailbox.request(FrameRequest(frame, self.generation, cols, rows, playing))

    def accept(self, decoded: DecodedFrame, playing: bool) -> bool:
        """True if ``decoded`` should be painted; a stale frame is dropped (and acknowledged).

        While playing, a frame older than the one on screen is stale too: painting it would make
        the picture jump back.
        """
        req = decoded.request
        stale = req.generation != self.generation or (playing and req.frame < self._shown_frame)
        if stale:
            self.stats.dropped += 1
            self.mailbox.painted()
            return False
        self._shown_frame = req.frame
        if self._seek_started is not None and self._seek_started[0] == req.generation:
            waited = time.perf_counter() - self._seek_started[1]
            self.stats.seek_arrivals.append((waited, decoded.seconds))
        return True

    def painted(self, generation: int, *, preview: bool = False) -> None:
        """A frame of ``generation`` reached the screen: let the decoder go on, count it.

        A preview answers a seek's first picture; the seek is complete with the exact frame.
        """
        now = time.perf_counter()
        self.mailbox.painted()
        self.stats.paints += 1
        self.stats.paint_times.append(now)
        started = self._seek_started
        if started is None or started[0] != generation:
            return
        if not self._first_shown:
            self._first_shown = True
            self.stats.first_picture_latencies.append(now - started[1])
        if preview:
            self.stats.preview_latencies.append(now - started[1])
            return
        self.stats.seek_latencies.append(now - started[1])
        self._seek_started = None

    def failed(self, request: FrameRequest) -> bool:
        """A frame could not be decoded; True if it was the one the screen still wants."""
        self.mailbox.painted()
        return request.generation == self.generation
