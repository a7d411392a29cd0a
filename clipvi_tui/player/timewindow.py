"""The chart's time window: which stretch of the video the chart and the heatmap show (pure).

The window starts as the whole video. Zooming in (keys, the mouse wheel over the chart) narrows
it around the playhead, down to :data:`MIN_SPAN_S` across the whole width, so the frames of a
10-minute video that a line chart squeezes into one column get columns of their own. While
playing, the window pages along with the playhead: when the playhead nears the right edge the
window jumps so the playhead is near the left edge again. Paging keeps the curves still while the
playhead moves over them (easier to read than a scrolling chart), and costs no more rebuilds than
the playhead crossing columns does anyway.
"""

from __future__ import annotations

# The narrowest window: a few seconds across the whole chart.
MIN_SPAN_S = 2.0
# Each zoom step divides (or multiplies) the span by this.
ZOOM_STEP = 2.0
# While following the playhead: page when it passes this fraction of the window ...
PAGE_AT = 0.95
# ... so that it lands at this fraction of the new window.
PAGE_TO = 0.1


class TimeWindow:
    """A ``[lo, hi]`` stretch of a video of ``duration`` seconds; the whole video by default."""

    def __init__(self, duration: float) -> None:
        """Show all of a video of ``duration`` seconds."""
        self.duration = max(0.0, float(duration))
        self.start = 0.0
        self.span = self.duration

    @property
    def lo(self) -> float:
        """Left edge in seconds."""
        return self.start

    @property
    def hi(self) -> float:
        """Right edge in seconds (at least a hair right of :attr:`lo`, for an empty video)."""
        return self.start + max(self.span, 1e-6)

    @property
    def zoomed(self) -> bool:
        """True unless the whole video is shown."""
        return self.span < self.duration - 1e-9

    @property
    def min_span(self) -> float:
        """The narrowest span this video allows (the whole of a video shorter than the minimum)."""
        return min(MIN_SPAN_S, self.duration)

    def zoom(self, factor: float, anchor: float) -> bool:
        """Divide the span by ``factor`` (> 1 zooms in), keeping ``anchor`` (seconds) in place.

        ``anchor`` stays at the same fraction of the window, so the playhead does not jump; an
        anchor outside the window is put in its middle. The window stays inside the video.

        Returns:
            True if the window changed (False at the zoom limits).
        """
        if factor <= 0 or self.duration <= 0:
            return False
        span = min(self.duration, max(self.min_span, self.span / factor))
        if abs(span - self.span) < 1e-9:
            return False
        rel = (anchor - self.start) / self.span if self.span > 0 else 0.5
        if not 0.0 <= rel <= 1.0:
            rel = 0.5
        self.span = span
        self._place(anchor - rel * span)
        return True

    def zoom_in(self, anchor: float) -> bool:
        """One zoom step in around ``anchor``; see :meth:`zoom`."""
        return self.zoom(ZOOM_STEP, anchor)

    def zoom_out(self, anchor: float) -> bool:
        """One zoom step out around ``anchor``; see :meth:`zoom`."""
        return self.zoom(1 / ZOOM_STEP, anchor)

    def reset(self) -> bool:
        """Show the whole video again; True if it was zoomed."""
        changed = self.zoomed or self.start != 0.0
        self.start, self.span = 0.0, self.duration
        return changed

    def follow(self, playhead: float, playing: bool = True) -> bool:
        """Keep ``playhead`` in view: while ``playing``, page forward near the right edge; a
        playhead outside the window (a seek elsewhere) is centred. A seek inside the window
        (a click near its edge) never moves it.

        Returns:
            True if the window moved.
        """
        if not self.zoomed:
            return False
        right = PAGE_AT if playing else 1.0
        if self.start <= playhead <= self.start + right * self.span:
            return False
        if playhead > self.start + self.span or playhead < self.start:
            target = playhead - self.span / 2  # a seek elsewhere: centre it
        else:
            target = playhead - PAGE_TO * self.span  # playback reached the right edge: page
        before = self.start
        self._place(target)
        return self.start != before

    def _place(self, start: float) -> None:
        """Move the window to ``start``, clamped so it stays inside the video."""
        self.start = max(0.0, min(self.duration - self.span, start))
