"""The similarity chart: one line per visible prompt over the whole video, with a playhead.

A plotext figure is rebuilt from scratch on every render (20–100 ms), so this widget:

* decimates every series to at most two points (min and max) per character column;
* caches the rendered picture under a :class:`~clipvi_tui.widgets.chart_math.RenderKey` and
  rebuilds only when the data, the size, the theme or the playhead's *column* changes;
* rate-limits rebuilds: at most every :data:`MIN_REBUILD_INTERVAL_S` for the playhead and user
  edits, every :data:`LIVE_REBUILD_INTERVAL_S` for data streaming in from the indexer (a rebuild
  with 5 prompts over a long video costs ≈75 ms on a busy 2-core machine), so neither live
  indexing nor a playhead crossing many narrow columns can eat the UI thread.

A click in the plot area posts :class:`SimilarityChart.Clicked` with the time under that column,
mapped through plotext's own axis limits and canvas offsets (see ``chart_math``).

Each series may also carry its threshold (a horizontal line in its colour, drawn under the
curves), its segments (bars along the bottom of the plot, one row per prompt when there is room)
and marks (spikes, drawn as dots); the y label names the score view.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.message import Message
from textual.timer import Timer
from textual_plotext import PlotextPlot

from clipvi_tui.core.analysis import difference_curves
from clipvi_tui.player.moments import Shown
from clipvi_tui.widgets.chart_math import (
    RenderKey,
    column_span,
    column_to_x,
    decimate_minmax,
    marker_xf,
    needs_rebuild,
    segment_rows,
    time_ticks,
    value_limits,
    vline_x_for_column,
    x_to_column,
)

MARKER = "braille"
PLAYHEAD_COLOR = (235, 64, 52)
SEGMENT_MARKER = "▬"
SPIKE_MARKER = "●"
# Shortest time between two rebuilds (the picture may lag the playhead by this much).
MIN_REBUILD_INTERVAL_S = 0.2
# Shortest time between rebuilds caused only by new embeddings arriving while indexing.
LIVE_REBUILD_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Series:
    """One prompt's curve: values aligned with the chart's times, NaN where not embedded.

    ``threshold``: drawn as a horizontal line (None: none). ``segments``: ``(start_s, end_s)``
    spans marked under the curves. ``marks``: ``(seconds, value)`` points (spikes).
    """

    label: str
    color: tuple[int, int, int]
    values: np.ndarray
    threshold: float | None = None
    segments: tuple[tuple[float, float], ...] = ()
    marks: tuple[tuple[float, float], ...] = ()


def series_for(shown: Sequence[Shown], spikes: bool) -> list[Series]:
    """The chart's lines for the prompts shown: each curve with its threshold and segments, or
    (``spikes``) each curve's change between samples with its spikes marked."""
    out = []
    for item in shown:
        e, found = item.entry, item.found
        if spikes:
            marks = tuple((p.time_s, p.change) for p in item.spikes)
            out.append(Series(e.text, e.color, difference_curves(found.curve), marks=marks))
        else:
            spans = tuple((g.start_s, g.end_s) for g in found.segments)
            out.append(Series(e.text, e.color, found.curve, found.threshold.value, spans))
    return out


def _drawable(threshold: float | None) -> bool:
    return threshold is not None and bool(np.isfinite(threshold))


@dataclass(frozen=True)
class CanvasGeometry:
    """Where plotext put the data area in the last build, and its x limits."""

    col_start: int
    width: int
    lo: float
    hi: float


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
        self._times = np.asarray(times, dtype=np.float64)
        self._series = list(series)
        self._y_label = y_label
        self._duration = max(0.0, duration)
        self._data_version += 1
        self._request_rebuild(LIVE_REBUILD_INTERVAL_S if live else MIN_REBUILD_INTERVAL_S)

    def set_playhead(self, seconds: float) -> None:
        """Move the playhead; triggers a rebuild only if it lands in another column."""
        self._playhead = seconds
        if self._key is None or self._playhead_column() != self._key.playhead_column:
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
        return 0.0, max(self._duration, 1e-6)

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
        return picture

    def _build(self, key: RenderKey) -> tuple[Text, CanvasGeometry]:
        """Draw the figure for ``key`` with plotext; returns it and where the data area landed."""
        self.build_count += 1
        plt = self.plt
        width, height = key.width, key.height
        plt.clear_data()
        plt.plotsize(width, height)
        plt._set_size(width, height)  # see textual-plotext issue 5 (PlotextPlot.render)
        plt.theme(key.theme)
        lo, hi = self._limits()
        canvas_w = self._canvas_width(width)
        xf = marker_xf(MARKER)
        plt.xlim(lo, hi)
        lines = [np.array([s.threshold]) for s in self._series if _drawable(s.threshold)]
        ylo, yhi = value_limits([s.values for s in self._series] + lines)
        bars, bar_ylo = segment_rows(self._series, ylo, yhi, height)
        plt.ylim(bar_ylo, yhi)
        ticks, labels = time_ticks(self._duration, canvas_w)
        plt.xticks(ticks, labels)
        yt = list(np.linspace(ylo, yhi, 4 if height >= 10 else 2))
        plt.yticks(yt, [f"{v:.2f}" for v in yt])
        if self._y_label:
            plt.ylabel(self._y_label)
        for s in self._series:
            # Under the curves, so a curve running along its threshold stays visible.
            if s.threshold is not None and _drawable(s.threshold):
                plt.hline(s.threshold, s.color)
        for s in self._series:
            runs = decimate_minmax(self._times, s.values, lo, hi, canvas_w, xf)
            for i, run in enumerate(runs):
                # A lone point is drawn as a zero-length line (plotext draws nothing for a
                # one-point line, and a legend entry needs data).
                xs, ys = run.x.tolist(), run.y.tolist()
                if len(xs) == 1:
                    xs, ys = xs * 2, ys * 2
                plt.plot(xs, ys, marker=MARKER, color=s.color, label=s.label if i == 0 else None)
        for s, y in zip(self._series, bars, strict=True):
            for a, b in s.segments:
                plt.plot([a, b], [y, y], marker=SEGMENT_MARKER, color=s.color)
        for s in self._series:
            if s.marks:
                xs, ys = zip(*s.marks, strict=True)
                plt.scatter(list(xs), list(ys), marker=SPIKE_MARKER, color=s.color)
        if not self._series:
            # An off-canvas line keeps plotext's y axis and labels, so the data area (and the
            # click mapping) does not move when the first prompt arrives.
            plt.plot([lo, hi], [yhi + 10, yhi + 10])
        if key.playhead_column is not None:
            plt.vline(vline_x_for_column(key.playhead_column, lo, hi, canvas_w), PLAYHEAD_COLOR)
        picture = Text.from_ansi(plt.build())
        # Private plotext state, pinned by tests/app/test_chart_math.py.
        monitor = plt.monitor  # type: ignore[attr-defined]
        cols = monitor.matrix.Cols_canvas
        xlim = monitor.xlim[0]
        return picture, CanvasGeometry(cols.start, len(cols), float(xlim[0]), float(xlim[1]))

    # -- input -----------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """Seek to the time under the clicked column."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        seconds = self.time_at_column(offset.x)
        span = self.span_at_column(offset.x)
        if seconds is not None and span is not None:
            event.stop()
            self.post_message(self.Clicked(seconds, *span))
