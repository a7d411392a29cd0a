"""Drawing the similarity chart's figure with plotext: what a build draws, and where it landed.

:func:`draw` turns a :class:`Figure` (the data, the time window, the y range and the playhead)
into the picture and the :class:`CanvasGeometry` the chart's clicks map through. It draws, in
order: threshold lines (under the curves), the curves decimated to the window's columns, segment
bars below them, spike marks, and the playhead; no legend (the prompt panel names the colours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.text import Text

from clipvi_tui.core.analysis import difference_curves
from clipvi_tui.player.moments import Shown
from clipvi_tui.widgets.chart_math import (
    decimate_window,
    marker_xf,
    segment_rows,
    value_ticks,
    vline_x_for_column,
    window_ticks,
)

MARKER = "braille"
SEGMENT_MARKER = "▬"
SPIKE_MARKER = "●"


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


def drawable(threshold: float | None) -> bool:
    return threshold is not None and bool(np.isfinite(threshold))


@dataclass(frozen=True)
class CanvasGeometry:
    """Where plotext put the data area in the last build, and its x limits."""

    col_start: int
    width: int
    lo: float
    hi: float


@dataclass(frozen=True)
class Figure:
    """Everything one build draws."""

    width: int
    height: int
    theme: str
    times: np.ndarray
    series: Sequence[Series]
    lo: float
    hi: float
    canvas_width: int
    value_range: tuple[float, float]
    playhead_column: int | None
    playhead_color: tuple[int, int, int]


def draw(plt: Any, fig: Figure) -> tuple[Text, CanvasGeometry]:
    """Draw ``fig`` on the plotext figure ``plt`` (a widget's own); returns the picture and where
    the data area landed."""
    width, height, lo, hi, canvas_w = fig.width, fig.height, fig.lo, fig.hi, fig.canvas_width
    xf = marker_xf(MARKER)
    plt.clear_data()
    plt.plotsize(width, height)
    plt._set_size(width, height)  # see textual-plotext issue 5 (PlotextPlot.render)
    plt.theme(fig.theme)
    # Only the left and bottom axes: the widget's border frames the plot, and the top axis would
    # cost a row of data (at 80×24 the difference between 7 and 8 rows).
    plt.xaxes(True, False)
    plt.yaxes(True, False)
    plt.xlim(lo, hi)
    ylo, yhi = fig.value_range
    bars, bar_ylo = segment_rows(fig.series, ylo, yhi, height)
    plt.ylim(bar_ylo, yhi)
    plt.xticks(*window_ticks(lo, hi, canvas_w))
    # Round values, at most one every row and a half of the rows the curves use (the plot's
    # height less the time axis, its labels and the segment bars; the y label is the chart's
    # border title).
    curve_rows = (height - 2) * (yhi - ylo) / (yhi - bar_ylo) if yhi > bar_ylo else height - 2
    plt.yticks(*value_ticks(ylo, yhi, max(2, min(6, int(curve_rows * 2 // 3)))))
    for s in fig.series:
        # Under the curves, so a curve running along its threshold stays visible.
        if s.threshold is not None and drawable(s.threshold):
            plt.hline(s.threshold, s.color)
    for s in fig.series:
        # No labels, so no legend over the curves: the prompt panel names the colours.
        for run in decimate_window(fig.times, s.values, lo, hi, canvas_w, xf):
            # A lone point is drawn as a zero-length line (plotext draws nothing for a
            # one-point line).
            xs, ys = run.x.tolist(), run.y.tolist()
            if len(xs) == 1:
                xs, ys = xs * 2, ys * 2
            plt.plot(xs, ys, marker=MARKER, color=s.color)
    for s, y in zip(fig.series, bars, strict=True):
        for a, b in s.segments:
            plt.plot([a, b], [y, y], marker=SEGMENT_MARKER, color=s.color)
    for s in fig.series:
        if s.marks:
            xs, ys = zip(*s.marks, strict=True)
            plt.scatter(list(xs), list(ys), marker=SPIKE_MARKER, color=s.color)
    if not fig.series:
        # An off-canvas line keeps plotext's y axis and labels, so the data area (and the
        # click mapping) does not move when the first prompt arrives.
        plt.plot([lo, hi], [yhi + 10, yhi + 10])
    if fig.playhead_column is not None:
        plt.vline(vline_x_for_column(fig.playhead_column, lo, hi, canvas_w), fig.playhead_color)
    picture = Text.from_ansi(plt.build())
    # Private plotext state, pinned by tests/app/test_chart_math.py.
    monitor = plt.monitor
    cols = monitor.matrix.Cols_canvas
    xlim = monitor.xlim[0]
    return picture, CanvasGeometry(cols.start, len(cols), float(xlim[0]), float(xlim[1]))
