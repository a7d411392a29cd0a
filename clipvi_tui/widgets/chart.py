"""The similarity chart: one line per visible prompt over a time window, with a playhead.

A plotext figure is rebuilt from scratch on every render (20–100 ms), so this widget:

* decimates every series to at most two points (min and max) per character column;
* caches the rendered picture under a :class:`~clipvi_tui.widgets.chart_math.RenderKey` and
  rebuilds only when the data, the size, the theme or the playhead's *column* changes;
* rate-limits rebuilds: at most every :data:`MIN_REBUILD_INTERVAL_S` for the playhead and user
  edits, every :data:`LIVE_REBUILD_INTERVAL_S` for data streaming in from the indexer (a rebuild
  with 5 prompts over a long video costs ≈75 ms on a busy 2-core machine), so neither live
  indexing nor a playhead crossing many narrow columns can eat the UI thread.

A click in the plot area posts :class:`SimilarityChart.Clicked` with the time under that column,
mapped through plotext's own axis limits and canvas offsets (see ``chart_math``); dragging posts
one for every column the mouse crosses (scrubbing), and selects no text.

The x axis shows a :class:`~clipvi_tui.player.timewindow.TimeWindow`: the whole video, or, zoomed
in (keys via the screen, the mouse wheel here), a few seconds around the playhead, following it.
Value focus fits the y axis to the curves inside the window. No legend covers the curves: the
prompt panel shows each prompt's colour. The border title names the y axis (the score view).
After each build that moved the data area or the y range, :class:`SimilarityChart.Drawn` tells
the heatmap under the chart where the columns are.

Each series may also carry its threshold (a horizontal line in its colour, drawn under the
curves), its segments (bars along the bottom of the plot, one row per prompt when there is room)
and marks (spikes, drawn as dots); ``chart_figure`` draws them.
"""

from __future__ import annotations

import time

import numpy as np
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.message import Message
from textual.timer import Timer
from textual_plotext import PlotextPlot

from clipvi_tui.player.timewindow import ZOOM_STEP, TimeWindow
from clipvi_tui.widgets.chart_figure import (
    MARKER,
    CanvasGeometry,
    Figure,
    Series,
    draw,
    drawable,
)
from clipvi_tui.widgets.chart_math import (
    RenderKey,
    column_span,
    column_to_x,
    format_clock,
    in_window,
    marker_xf,
    needs_rebuild,
    value_limits,
    x_to_column,
)

# Neutral, so it is never mistaken for a red prompt's line (light on dark themes, dark on light).
PLAYHEAD_ON_DARK = (235, 235, 235)
PLAYHEAD_ON_LIGHT = (40, 40, 40)
TITLE = "Similarity to prompts"
# Shortest time between two rebuilds (the picture may lag the playhead by this much).
MIN_REBUILD_INTERVAL_S = 0.2
# Shortest time between rebuilds caused only by new embeddings arriving while indexing.
LIVE_REBUILD_INTERVAL_S = 1.0


class SimilarityChart(PlotextPlot):
    """Cosine similarity per sampled frame for each visible prompt."""

    class Clicked(Message):
        """The user clicked the plot area at time ``seconds``.

        ``start`` … ``end`` is the time range the clicked column covers, so the screen can pick
        a frame that is really drawn in that column.
        """

        def __init__(self, seconds: float, start: float, end: float) -> None:
            """Carry the time under the middle of the clicked column and its range."""
            super().__init__()
            self.seconds = seconds
            self.start = start
            self.end = end

    class Drawn(Message):
        """A build put the data area at ``geometry`` with curves in ``value_range`` (low, high)."""

        def __init__(self, geometry: CanvasGeometry, value_range: tuple[float, float]) -> None:
            """Carry where the columns are and the y range of the curves."""
            super().__init__()
            self.geometry = geometry
            self.value_range = value_range

    # Dragging scrubs; it must not start Textual's text selection.
    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty chart."""
        super().__init__(id=id)
        self._times: np.ndarray = np.zeros(0, dtype=np.float64)
        self._series: list[Series] = []
        self._y_label = ""
        self._duration = 0.0
        self._playhead = 0.0
        self._data_version = 0
        self._key: RenderKey | None = None
        self._picture: Text = Text("")
        self._geometry: CanvasGeometry | None = None
        self._geometry_width = -1  # widget width the geometry was measured at
        self._last_build = 0.0
        self._timer: Timer | None = None
        self._timer_due = 0.0
        self.build_count = 0  # how many times plotext actually built a figure (tests, bench)
        self.window = TimeWindow(0.0)
        self.focus_y = False  # fit the y axis to the curves inside the window
        self.value_range = (0.0, 1.0)  # y range of the curves in the last build
        self._drawn: tuple[CanvasGeometry, tuple[float, float]] | None = None
        self._drag_column: int | None = None  # the column last scrubbed to while dragging

        # (time.monotonic(), scores drawn) per build, for bench/ (the screen passes a list).
        self.build_log: list[tuple[float, int]] | None = None
        self._drawn_scores = 0  # finite scores in the last build

    # -- input from the screen -------------------------------------------------------------------

    def set_data(
        self,
        times: np.ndarray,
        series: list[Series],
        duration: float,
        *,
        live: bool = False,
        y_label: str = "",
    ) -> None:
        """Replace the curves (``times`` in seconds, ascending) and the timeline length.

        ``live`` marks a change from background indexing: it is drawn within a second instead
        of at once, so a stream of small updates costs one rebuild a second. ``y_label`` names
        what the y axis shows (the score view).
        """
        was_empty = self._drawn_scores == 0
        self._times = np.asarray(times, dtype=np.float64)
        self._series = list(series)
        self._y_label = y_label
        if self.border_title != (y_label or TITLE):
            # Only on a change: setting it repaints, which would rebuild past the rate limit.
            self.border_title = y_label or TITLE
        self._duration = max(0.0, duration)
        if self.window.duration != self._duration:
            self.window = TimeWindow(self._duration)
        self._data_version += 1
        if was_empty and not live:
            # The first scores (the cache loaded at start): draw them at once, not after the
            # rebuild interval that paces a stream of updates.
            self._request_rebuild(0.0)
        else:
            self._request_rebuild(LIVE_REBUILD_INTERVAL_S if live else MIN_REBUILD_INTERVAL_S)

    def set_playhead(self, seconds: float, playing: bool = False) -> None:
        """Move the playhead (a zoomed window follows it, paging while ``playing``); rebuilds
        only if it lands in another column."""
        self._playhead = seconds
        if self.window.follow(seconds, playing):
            self._view_changed()
        elif self._key is None or self._playhead_column() != self._key.playhead_column:
            self._request_rebuild(MIN_REBUILD_INTERVAL_S)

    # -- zoom and value focus --------------------------------------------------------------------

    def zoom(self, factor: float) -> bool:
        """Narrow (``factor`` > 1) or widen the time window around the playhead; False at the
        limits."""
        changed = self.window.zoom(factor, self._playhead)
        if changed:
            self._view_changed()
        return changed

    def reset_zoom(self) -> bool:
        """Show the whole video again; False if it already did."""
        changed = self.window.reset()
        if changed:
            self._view_changed()
        return changed

    def set_focus_y(self, focus: bool) -> None:
        """Fit the y axis to the curves inside the window (True), or to all the data (False)."""
        self.focus_y = focus
        self._view_changed()

    def _view_changed(self) -> None:
        """The window or the y range changed: redraw soon, and say so under the chart."""
        parts = []
        if self.window.zoomed:
            lo, hi = self.window.lo, self.window.hi
            parts.append(f"{format_clock(lo, True)}–{format_clock(hi, True)} · 0 whole video")
        if self.focus_y:
            parts.append("y fitted · Y resets")
        self.border_subtitle = " │ ".join(parts)
        self._data_version += 1
        self._request_rebuild(MIN_REBUILD_INTERVAL_S)

    @property
    def geometry(self) -> CanvasGeometry | None:
        """The data area of the last build (None before the first)."""
        return self._geometry

    def time_at_column(self, column: int) -> float | None:
        """Seconds under the middle of content column ``column`` (None outside the data area)."""
        geo = self._geometry
        if geo is None:
            return None
        c = column - geo.col_start
        if not 0 <= c < geo.width:
            return None
        return column_to_x(c, geo.lo, geo.hi, geo.width, marker_xf(MARKER))

    def span_at_column(self, column: int) -> tuple[float, float] | None:
        """The time range drawn in content column ``column`` (None outside the data area)."""
        geo = self._geometry
        if geo is None or not 0 <= column - geo.col_start < geo.width:
            return None
        return column_span(column - geo.col_start, geo.lo, geo.hi, geo.width, marker_xf(MARKER))

    # -- rebuild scheduling ----------------------------------------------------------------------

    def _request_rebuild(self, min_interval: float) -> None:
        """Refresh now, or once ``min_interval`` has passed since the last build.

        One timer at most is pending; an urgent request moves a later one forward.
        """
        now = time.monotonic()
        wait = min_interval - (now - self._last_build)
        if wait <= 0:
            self._cancel_timer()
            self.refresh()
            return
        due = now + wait
        if self._timer is not None and self._timer_due <= due:
            return
        self._cancel_timer()
        self._timer_due = due
        self._timer = self.set_timer(wait, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        self.refresh()

    def _limits(self) -> tuple[float, float]:
        return self.window.lo, self.window.hi

    def _canvas_width(self, width: int) -> int:
        """Data-area width: last build's if the widget kept its width, else an estimate."""
        if self._geometry is not None and self._geometry_width == width:
            return self._geometry.width
        return max(1, width - 7)  # "0.25 ┤" labels and the two axes

    def _playhead_column(self) -> int | None:
        if self._duration <= 0:
            return None
        lo, hi = self._limits()
        width = self._canvas_width(self.size.width)
        return x_to_column(self._playhead, lo, hi, width, marker_xf(MARKER))

    def current_key(self) -> RenderKey:
        """The key the picture would be rendered under now."""
        return RenderKey(
            width=self.size.width,
            height=self.size.height,
            theme=self._get_plotext_theme_name(self.app.theme),
            data_version=self._data_version,
            playhead_column=self._playhead_column(),
        )

    # -- rendering -------------------------------------------------------------------------------

    def render(self) -> RenderResult:
        """The cached picture, rebuilt only when its key changed."""
        key = self.current_key()
        if not needs_rebuild(self._key, key):
            return self._picture
        estimate = self._canvas_width(key.width)
        picture, geo = self._build(key)
        self._geometry, self._geometry_width = geo, key.width
        if geo.width != estimate and geo.width > 0:
            # The width estimate was off (first build at this size, or wider tick labels):
            # build again with the real width so buckets, ticks and playhead match the screen.
            key = self.current_key()
            picture, geo = self._build(key)
            self._geometry = geo
        self._picture, self._key = picture, key
        self._last_build = time.monotonic()
        if (geo, self.value_range) != self._drawn:
            self._drawn = (geo, self.value_range)
            self.post_message(self.Drawn(geo, self.value_range))
        return picture

    def _value_limits(self) -> tuple[float, float]:
        """The curves' y range: everything (with thresholds), or, focused, what the window shows."""
        if self.focus_y:
            a, b = in_window(self._times, *self._limits())
            # One sample either side: the lines run to the edges from there.
            a, b = max(0, a - 1), min(len(self._times), b + 1)
            return value_limits([s.values[a:b] for s in self._series])
        lines = [np.array([s.threshold]) for s in self._series if drawable(s.threshold)]
        return value_limits([s.values for s in self._series] + lines)

    def _build(self, key: RenderKey) -> tuple[Text, CanvasGeometry]:
        """Draw the figure for ``key`` with plotext; returns it and where the data area landed."""
        self.build_count += 1
        self.value_range = self._value_limits()

        self._drawn_scores = sum(int(np.isfinite(s.values).sum()) for s in self._series)
        if self.build_log is not None:
            self.build_log.append((time.monotonic(), self._drawn_scores))
        lo, hi = self._limits()
        playhead = key.playhead_column if lo <= self._playhead <= hi else None
        figure = Figure(
            width=key.width,
            height=key.height,
            theme=key.theme,
            times=self._times,
            series=self._series,
            lo=lo,
            hi=hi,
            canvas_width=self._canvas_width(key.width),
            value_range=self.value_range,
            playhead_column=playhead,
            playhead_color=PLAYHEAD_ON_DARK if self.app.current_theme.dark else PLAYHEAD_ON_LIGHT,
        )
        return draw(self.plt, figure)

    # -- input -----------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """Seek to the time under the clicked column."""
        offset = event.get_content_offset(self)
        if offset is not None and self._post_seek(offset.x):
            event.stop()

    def _post_seek(self, column: int) -> bool:
        """Post :class:`Clicked` for content ``column``; False outside the data area."""
        seconds = self.time_at_column(column)
        span = self.span_at_column(column)
        if seconds is None or span is None:
            return False
        self.post_message(self.Clicked(seconds, *span))
        return True

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Pressing the button in the data area starts a scrub (the mouse is captured)."""
        offset = event.get_content_offset(self)
        if event.button == 1 and offset is not None and self.time_at_column(offset.x) is not None:
            self.capture_mouse()
            self._drag_column = offset.x
            event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """While the button is held, seek to every column the mouse reaches (clamped to the data
        area, so dragging past an edge scrubs to that edge)."""
        geo = self._geometry
        if self._drag_column is None or geo is None:
            return
        x = event.get_content_offset_capture(self).x
        column = max(geo.col_start, min(geo.col_start + geo.width - 1, x))
        if column != self._drag_column:
            self._drag_column = column
            self._post_seek(column)
        event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """Releasing the button ends the scrub."""
        if self._drag_column is not None:
            self._drag_column = None
            self.release_mouse()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel zooms the time axis in around the playhead."""
        event.stop()
        self.zoom(ZOOM_STEP)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel zooms the time axis out around the playhead."""
        event.stop()
        self.zoom(1 / ZOOM_STEP)
