"""Unit tests of the chart's numbers: decimation, the rebuild rule, and click ↔ column mapping.

The mapping tests pin plotext 5.3.2's private binning (``get_matrix_data``, ``Cols_canvas``): if an
upgrade changes where plotext draws a point, these fail instead of clicks silently seeking to the
wrong frame.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from textual_plotext.plot import Plot

from clipvi_tui.widgets.chart_math import (
    RenderKey,
    column_span,
    column_to_x,
    decimate_minmax,
    decimate_window,
    format_clock,
    marker_xf,
    needs_rebuild,
    time_ticks,
    value_limits,
    value_ticks,
    vline_x_for_column,
    window_ticks,
    x_to_column,
)

WIDTHS = (20, 41, 80, 109, 117, 200)
LIMITS = ((0.0, 6.0), (0.0, 3600.0), (12.5, 13.0))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lo_hi", LIMITS)
@pytest.mark.parametrize("xf", (1, 2))
def test_column_to_x_inverts_x_to_column(width: int, lo_hi: tuple[float, float], xf: int) -> None:
    """Given any column, the x at its middle maps back to that same column."""
    lo, hi = lo_hi
    for c in range(width):
        x = column_to_x(c, lo, hi, width, xf)
        assert lo <= x <= hi
        assert x_to_column(x, lo, hi, width, xf) == c, f"column {c} of {width} (xf={xf})"


def _drawn_columns(plt: Plot) -> list[int]:
    """Canvas columns (0-based) holding a braille dot or a vertical-line cell in the last build."""
    text = plt.uncolorize(plt.build())
    start = plt.monitor.matrix.Cols_canvas.start
    width = len(plt.monitor.matrix.Cols_canvas)
    found: set[int] = set()
    for line in text.splitlines():
        for i, ch in enumerate(line[start : start + width]):
            if "\u2801" <= ch <= "\u28ff" or ch == "│":
                found.add(i)
    return sorted(found)


@pytest.mark.parametrize("size", [(40, 12), (96, 14), (118, 16), (200, 20)])
@pytest.mark.parametrize("window", [(0.0, 100.0), (37.3, 39.3), (3599.0, 3604.5)])
def test_mapping_matches_where_plotext_draws(
    size: tuple[int, int], window: tuple[float, float]
) -> None:
    """Given a plotext figure of a given size, over the whole video or a zoomed window (a few
    seconds, far from 0), a braille point placed at ``column_to_x(c)`` is drawn in canvas
    column c, and a vline at ``vline_x_for_column(c)`` too."""
    width, height = size
    lo, hi = window
    plt = Plot()
    plt.plotsize(width, height)
    plt._set_size(width, height)

    def axes() -> None:
        # As the chart does (chart_figure.draw): left and bottom axes only, fixed limits and
        # explicit y labels, so the canvas never moves.
        plt.clear_data()
        plt.xaxes(True, False)
        plt.yaxes(True, False)
        plt.xlim(lo, hi)
        plt.ylim(0, 1)
        plt.yticks([0, 0.5, 1], ["0.00", "0.50", "1.00"])
        plt.plot([lo, hi], [5, 5])  # off-canvas: keeps the y axis (and the layout) in place

    axes()
    plt.build()
    canvas = plt.monitor.matrix.Cols_canvas
    canvas_w = len(canvas)
    assert canvas_w > 0
    for c in sorted({0, 1, canvas_w // 3, canvas_w // 2, canvas_w - 2, canvas_w - 1}):
        axes()
        x = column_to_x(c, lo, hi, canvas_w, marker_xf("braille"))
        plt.plot([x, x], [0.5, 0.5], marker="braille")
        assert _drawn_columns(plt) == [c], f"point for column {c} at width {width}"
        assert plt.monitor.xlim[0] == [lo, hi], "plotext must keep the limits we set"
        assert plt.monitor.matrix.Cols_canvas == canvas, "the data area must not move"
        axes()
        plt.vline(vline_x_for_column(c, lo, hi, canvas_w))
        assert _drawn_columns(plt) == [c], f"vline for column {c} at width {width}"


def test_decimation_keeps_min_and_max_per_column() -> None:
    """Given 10 000 noisy points and 100 columns, at most 200 points remain, and every column's
    extreme values (hence the global min and max) survive."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 100, 10_000)
    y = np.sin(x / 7) + rng.normal(0, 0.1, x.size)
    runs = decimate_minmax(x, y, 0.0, 100.0, 100, xf=2)
    assert len(runs) == 1, "no NaN: one connected line"
    run = runs[0]
    assert len(run.x) <= 200
    assert np.all(np.diff(run.x) >= 0), "points stay in time order"
    assert run.y.max() == y.max() and run.y.min() == y.min()
    cols = np.array([x_to_column(v, 0, 100, 100) for v in x])
    for c in (0, 17, 50, 99):
        sel = cols == c
        kept = np.array([x_to_column(v, 0, 100, 100) for v in run.x]) == c
        assert set(run.y[kept]) == {y[sel].min(), y[sel].max()}, f"column {c}"


def test_decimation_breaks_lines_only_at_visible_gaps() -> None:
    """Given NaN holes, a hole spanning several columns splits the line; a one-frame hole inside a
    column does not; all-NaN gives nothing."""
    x = np.linspace(0, 100, 1000)
    y = np.ones_like(x)
    y[300:400] = np.nan  # 10 % of the width: visible
    y[700] = np.nan  # a single frame: invisible at 50 columns
    runs = decimate_minmax(x, y, 0.0, 100.0, 50)
    assert len(runs) == 2
    assert runs[0].x.max() < x[300] and runs[1].x.min() > x[399]
    assert decimate_minmax(x, np.full_like(x, np.nan), 0, 100, 50) == []


def test_sparse_points_stay_connected() -> None:
    """Given fewer samples than columns (a short video), consecutive samples are one line."""
    x = np.arange(30) * 0.2
    runs = decimate_minmax(x, np.linspace(0, 1, 30), 0.0, 6.0, 110)
    assert len(runs) == 1 and len(runs[0].x) == 30


def test_rebuild_rule_ignores_moves_inside_a_column() -> None:
    """Given a playhead moving within one column, the render key does not change (no rebuild);
    crossing into the next column, new data, or a resize does."""
    lo, hi, width = 0.0, 600.0, 100  # 6 s per column
    key = RenderKey(120, 14, "t", 1, x_to_column(60.0, lo, hi, width))
    for t in np.arange(60.0, 63.0, 1 / 30):  # 3 s of playback at 30 fps
        same = RenderKey(120, 14, "t", 1, x_to_column(float(t), lo, hi, width))
        assert not needs_rebuild(key, same), f"t={t:.2f}"
    moved = RenderKey(120, 14, "t", 1, x_to_column(70.0, lo, hi, width))
    assert needs_rebuild(key, moved)
    assert needs_rebuild(key, RenderKey(120, 14, "t", 2, key.playhead_column))
    assert needs_rebuild(key, RenderKey(100, 14, "t", 1, key.playhead_column))
    assert needs_rebuild(None, key)


def test_time_ticks_and_clock_format() -> None:
    """Tick labels read as m:ss and never crowd (≥ 12 columns apart)."""
    ticks, labels = time_ticks(180.0, 110)
    assert labels[0] == "0:00" and labels[-1] == "3:00"
    assert len(ticks) <= 110 // 12 + 1
    assert format_clock(3725.0) == "1:02:05"
    assert format_clock(4.96, precise=True) == "0:05.0"
    assert time_ticks(0.0, 50) == ([0.0], ["0:00"])


def test_value_limits() -> None:
    """Y limits pad the finite range and fall back to 0..1 without data."""
    lo, hi = value_limits([np.array([0.2, np.nan, 0.3])])
    assert lo < 0.2 and hi > 0.3
    assert value_limits([np.array([np.nan])]) == (0.0, 1.0)


@pytest.mark.parametrize("width", WIDTHS)
def test_column_spans_tile_the_axis(width: int) -> None:
    """Column spans are contiguous, cover [lo, hi], and hold exactly the x values plotext draws
    in that column."""
    lo, hi = 0.0, 60.0
    spans = [column_span(c, lo, hi, width) for c in range(width)]
    assert spans[0][0] == lo and spans[-1][1] == hi
    for (a0, a1), (b0, _) in itertools.pairwise(spans):
        assert a1 == pytest.approx(b0) and a0 < a1
    for c, (x0, x1) in enumerate(spans):
        inside = np.linspace(x0, x1, 7)[1:-1]
        assert all(x_to_column(float(x), lo, hi, width) == c for x in inside)


def test_window_ticks_follow_a_zoomed_window() -> None:
    """Ticks of a zoomed window start at the first round time inside it, use tenths for
    sub-second steps and never crowd."""
    ticks, labels = window_ticks(61.3, 63.3, 110)
    assert ticks[0] >= 61.3 and ticks[-1] <= 63.3
    assert len(ticks) <= 110 // 12 + 1 and labels[0].startswith("1:01.")
    assert all(round(t * 10, 6) % 1 == 0 for t in ticks), "steps of whole tenths"
    assert window_ticks(0.0, 180.0, 110) == time_ticks(180.0, 110)
    assert window_ticks(5.0, 5.0, 80) == ([5.0], ["0:05"])


@pytest.mark.parametrize(
    ("lo", "hi", "n", "expected"),
    [
        (0.17, 1.04, 4, ["0.25", "0.50", "0.75", "1.00"]),
        (0.2, 0.31, 4, ["0.20", "0.25", "0.30"]),
        (-3.2, 7.9, 6, ["-2", "0", "2", "4", "6"]),
        (0.2613, 0.2672, 3, ["0.262", "0.264", "0.266"]),
    ],
)
def test_value_ticks_are_round(lo: float, hi: float, n: int, expected: list[str]) -> None:
    """Y ticks sit on multiples of 1, 2, 2.5 or 5 × 10^k inside the limits, at most ``n`` of
    them, labelled with just the decimals the step needs."""
    ticks, labels = value_ticks(lo, hi, n)
    assert labels == expected
    assert all(lo <= t <= hi for t in ticks) and len(ticks) <= n


def test_decimate_window_reaches_both_edges() -> None:
    """Zoomed in, the curve is drawn from the sample left of the window to the one right of it
    (plotext clips it at the limits); a window between two samples gets the segment joining
    them; a NaN neighbour is not joined."""
    x = np.arange(0, 10, 1.0)
    y = np.arange(10, dtype=float) / 10
    runs = decimate_window(x, y, 2.5, 6.5, 40)
    assert len(runs) == 1
    assert runs[0].x[0] == 2.0 and runs[0].x[-1] == 7.0
    between = decimate_window(x, y, 3.2, 3.8, 40)
    assert [r.x.tolist() for r in between] == [[3.0, 4.0]]
    y[2] = np.nan
    assert decimate_window(x, y, 2.5, 6.5, 40)[0].x[0] == 3.0
    assert decimate_window(x, y, 20.0, 30.0, 40) == []
