"""The video box's side of the frame pipeline: frames asked for, painted, and the chart following.

The player screen owns a :class:`VideoFeed` (composition) and hands it the decoder's messages.
It builds the decoder thread's renderer for the terminal's graphics mode, asks for the frame on
screen in the video box's current size, paints what :class:`~clipvi_tui.player.display.FrameDisplay`
accepts, and moves the chart's playhead. After a seek the chart follows once the new picture is
on screen (or after :data:`CHART_AFTER_SEEK_S`): redrawing the chart takes tens of milliseconds
on the UI thread and would otherwise hold up the picture the user is waiting for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.timer import Timer

from clipvi_tui.player.context import PlayerConfig
from clipvi_tui.player.display import FrameDisplay
from clipvi_tui.player.messages import FrameDecoded, FrameFailed
from clipvi_tui.player.renderer import FrameRenderer, Thumbnails
from clipvi_tui.widgets.chart_area import ChartArea
from clipvi_tui.widgets.graphics import TEXT_MODES, cell_pixels
from clipvi_tui.widgets.video import VideoView, frame_preparer

# After a seek, the chart's playhead moves once the new picture is painted, at the latest after:
CHART_AFTER_SEEK_S = 0.25


class VideoFeed:
    """Frames for the video box, and the chart's playhead in step with the picture."""

    def __init__(
        self,
        screen: Any,
        config: PlayerConfig,
        display: FrameDisplay,
        thumbnail: Thumbnails,
    ) -> None:
        """Serve ``screen`` (widgets are queried from it, timers set on it; its ``frame`` and
        ``playing`` say where the player is); ``thumbnail`` answers long seeks first."""
        self.screen = screen
        self.config = config
        self.display = display
        self.thumbnail = thumbnail
        self._chart_timer: Timer | None = None

    def start(self, sampled: np.ndarray) -> None:
        """Start the decoder thread (a worker of the screen); ``sampled`` frames have
        thumbnails. The text modes decode without deblocking (invisible in cells)."""
        config, mode = self.config, self.config.graphics
        truecolor = self.screen.app.console.color_system == "truecolor"

        def make_renderer() -> FrameRenderer:
            return FrameRenderer(
                config.video,
                mode,
                cell_pixels(mode),
                frame_preparer(mode, truecolor=truecolor),
                info=config.info,
                sampled=sampled,
                thumbnail=self.thumbnail,
                fast_decode=mode in TEXT_MODES,
            )

        self.display.start_decoder(self.screen, make_renderer)

    @property
    def chart_pending(self) -> bool:
        """True while the chart's playhead waits for the new picture after a seek."""
        return self._chart_timer is not None

    def request(self) -> None:
        """Ask the decoder for the frame on screen, in the video box's current size."""
        box = self.screen.query_one("#video", VideoView).box
        self.display.request(self.screen.frame, *box, playing=self.screen.playing)

    def moved(self) -> None:
        """The position changed: ask for its frame; the chart follows (see the module)."""
        self.request()
        if self.screen.playing:
            self.move_chart_playhead()
        elif self._chart_timer is None:
            self._chart_timer = self.screen.set_timer(CHART_AFTER_SEEK_S, self.move_chart_playhead)

    def move_chart_playhead(self) -> None:
        """Put the chart's playhead on the frame on screen now."""
        if self._chart_timer is not None:
            self._chart_timer.stop()
            self._chart_timer = None
        seconds = self.config.info.time_of(self.screen.frame)
        self.screen.query_one(ChartArea).set_playhead(seconds, self.screen.playing)

    def paint(self, message: FrameDecoded) -> None:
        """Paint a decoded frame unless a seek made it stale; ack the decoder after the paint."""
        d = message.decoded
        if not self.display.accept(d, self.screen.playing):
            return
        geo = d.geometry
        video = self.screen.query_one("#video", VideoView)
        video.show(d.request.frame, d.image, (geo.cells_w, geo.cells_h))
        self.screen.call_after_refresh(
            self.display.painted, d.request.generation, preview=message.preview
        )
        if self._chart_timer is not None:
            self.screen.call_after_refresh(self.move_chart_playhead)

    def failed(self, message: FrameFailed) -> None:
        """Show why the wanted frame could not be decoded (a stale failure is dropped)."""
        if self.display.failed(message.request):
            self.screen.query_one("#video", VideoView).show_message(message.error)
