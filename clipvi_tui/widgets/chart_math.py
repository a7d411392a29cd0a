"""Pure numbers behind the similarity chart: decimation, plotext's column mapping, rebuild rule.

Kept free of Textual so it can be unit-tested in isolation, and because the column mapping copies
a private detail of plotext 5.3.2 that a test must pin (see ``tests/app/test_chart_math.py``).

plotext places a data point with x in ``[lo, hi]`` on sub-column
``floor(0.5 + (bins - 1) * (x - lo) / (hi - lo))`` (``plotext._utility.get_matrix_data``), where
``bins = canvas_width * xf`` and ``xf`` is 2 for the braille/hd/fhd markers (two dots across a
character cell) and 1 otherwise; the character column is ``sub // xf``. Vertical lines use
``xf = 1``. Everything here inverts or reuses that formula so clicks, decimation buckets and the
playhead agree with what is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Markers that put two data dots across one character cell (plotext's ``marker_factor``).
HD_MARKERS = ("braille", "hd", "fhd")


def marker_xf(marker: str) -> int:
    """Dots per character column that plotext uses for ``marker`` along x."""
    return 2 if marker in HD_MARKERS else 1


def _sub_column(x: float | np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """plotext's sub-column of ``x`` (before clipping), vectorised."""
    u = (np.asarray(x, dtype=np.float64) - lo) / (hi - lo)
    # plotext rounds to 8 decimals before flooring so 9.9999999 lands on 10; do the same.
    return np.floor(np.round(0.5 + (bins - 1) * u, 8)).astype(np.int64)


def x_to_column(x: float, lo: float, hi: float, width: int, xf: int = 2) -> int:
    """The character column (0-based inside the canvas) where plotext draws a point at ``x``.

    Args:
        x: the data x value.
        lo: left x limit of the plot.
        hi: right x limit of the plot.
        width: canvas width in character columns.
        xf: dots per column (see :func:`marker_xf`).

    Returns:
        The column, clipped to ``0 … width-1``.
    """
    if width <= 0 or hi <= lo:
        return 0
    sub = int(_sub_column(x, lo, hi, width * xf))
    return max(0, min(width - 1, sub // xf))


def column_to_x(column: int, lo: float, hi: float, width: int, xf: int = 2) -> float:
    """The data x at the middle of character column ``column``: the inverse of :func:`x_to_column`.

    A column covers sub-columns ``column*xf … column*xf + xf-1``; sub-column ``s`` holds the x
    values with ``s <= 0.5 + (bins-1)*u < s+1``. The middle of that run is returned, clamped to the
    limits (the first and last columns are only half inside them).
    """
    if width <= 0 or hi <= lo:
        return lo
    bins = width * xf
    if bins == 1:
        return (lo + hi) / 2
    mid_sub = column * xf + (xf - 1) / 2
    x = lo + mid_sub * (hi - lo) / (bins - 1)
    return min(hi, max(lo, x))


def column_span(column: int, lo: float, hi: float, width: int, xf: int = 2) -> tuple[float, float]:
    """The x interval ``[x0, x1)`` that plotext draws in character column ``column``."""
    if width <= 0 or hi <= lo:
        return lo, hi
    bins = width * xf
    if bins == 1:
        return lo, hi
    step = (hi - lo) / (bins - 1)
    x0 = lo + (column * xf - 0.5) * step
    x1 = lo + (column * xf + xf - 0.5) * step
    return max(lo, x0), min(hi, x1)


def vline_x_for_column(column: int, lo: float, hi: float, width: int) -> float:
    """An x value that plotext's ``vline`` (which bins with ``xf = 1``) draws in ``column``.

    Used for the playhead, so that it is drawn in exactly the column that holds the playhead's data
    point (braille data and vertical lines are binned with different formulas).
    """
    if width <= 1 or hi <= lo:
        return lo
    return lo + column * (hi - lo) / (width - 1)


@dataclass(frozen=True)
class Run:
    """A stretch of decimated points with no empty column inside; drawn as one line."""

    x: np.ndarray
    y: np.ndarray


def decimate_minmax(
    x: np.ndarray, y: np.ndarray, lo: float, hi: float, width: int, xf: int = 2
) -> list[Run]:
    """Reduce a series to at most two points per character column: its min and max.

    The min and max keep their own x and their time order, so the drawn envelope is the same as
    plotting every point, at a cost independent of the series length.

    NaN marks a frame not embedded yet. A line breaks at a NaN only where the break is visible:
    when the finite points on either side are more than one column apart. Narrower holes (dense
    data, a few missing frames inside one column) cannot be drawn anyway, and breaking there would
    turn a nearly complete curve into dust.

    Args:
        x: ascending x values (seconds).
        y: values, NaN where missing.
        lo: left x limit of the plot.
        hi: right x limit of the plot.
        width: canvas width in character columns.
        xf: dots per column of the marker (columns follow plotext's own binning).

    Returns:
        Runs of points, left to right; each is drawn as one connected line.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(x)
    if not ok.any() or width <= 0 or hi <= lo:
        return []
    idx = np.flatnonzero(ok)
    xs, ys = x[idx], y[idx]
    cols = np.clip(_sub_column(xs, lo, hi, width * xf) // xf, 0, width - 1)
    missing_between = np.diff(idx) > 1
    visible_gap = np.diff(cols) > 1
    run_starts = np.flatnonzero(np.r_[True, missing_between & visible_gap])
    run_ends = np.r_[run_starts[1:], len(idx)]
    runs: list[Run] = []
    for a, b in zip(run_starts, run_ends, strict=True):
        rx, ry = _minmax_per_column(xs[a:b], ys[a:b], cols[a:b])
        runs.append(Run(rx, ry))
    return runs


def _minmax_per_column(
    xs: np.ndarray, ys: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep each column's min and max point (in time order); x is ascending so columns are
    contiguous slices."""
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    if len(starts) == len(cols):
        return xs, ys  # at most one point per column already
    ends = np.r_[starts[1:], len(cols)]
    keep: list[int] = []
    for a, b in zip(starts, ends, strict=True):
        seg = ys[a:b]
        i_min = a + int(np.argmin(seg))
        i_max = a + int(np.argmax(seg))
        keep.extend(sorted({i_min, i_max}))
    sel = np.asarray(keep, dtype=np.int64)
    return xs[sel], ys[sel]


@dataclass(frozen=True)
class RenderKey:
    """Everything a chart picture depends on; the plot is rebuilt only when this changes.

    The playhead enters as its *column*, not its time: at 30 fps over a long video the playhead
    stays in one column for seconds, and rebuilding a plotext figure costs 20–100 ms.
    """

    width: int
    height: int
    theme: str
    data_version: int
    playhead_column: int | None


def needs_rebuild(previous: RenderKey | None, current: RenderKey) -> bool:
    """True when the cached chart picture for ``previous`` cannot be reused for ``current``."""
    return previous != current


def nice_time_step(duration: float, max_ticks: int) -> float:
    """A readable tick spacing in seconds giving at most ``max_ticks`` ticks over ``duration``."""
    steps = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
    for step in steps:
        if duration / step <= max(1, max_ticks):
            return float(step)
    return float(math.ceil(duration / max(1, max_ticks) / 3600) * 3600)


def format_clock(seconds: float, precise: bool = False) -> str:
    """``m:ss`` (or ``h:mm:ss``); with ``precise``, tenths of a second too."""
    seconds = max(0.0, seconds)
    if precise:
        tenths = round(seconds * 10)
        whole, frac = divmod(tenths, 10)
    else:
        whole, frac = int(seconds), 0
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return f"{text}.{frac}" if precise else text


def time_ticks(duration: float, canvas_width: int) -> tuple[list[float], list[str]]:
    """X ticks and ``m:ss`` labels for a timeline of ``duration`` seconds."""
    return window_ticks(0.0, duration, canvas_width)


def window_ticks(lo: float, hi: float, canvas_width: int) -> tuple[list[float], list[str]]:
    """X ticks and ``m:ss`` labels (tenths when the step is under a second) for ``[lo, hi]``."""
    if hi <= lo:
        return [lo], [format_clock(lo)]
    # One label every ≥ 12 columns keeps "12:30.5" labels from colliding.
    step = nice_time_step(hi - lo, max(2, canvas_width // 12))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [float(t) for t in np.arange(first, hi + 1e-9, step)]
    precise = step < 1
    return ticks, [format_clock(t, precise=precise) for t in ticks]


def value_ticks(lo: float, hi: float, max_ticks: int) -> tuple[list[float], list[str]]:
    """Y ticks at round values (multiples of 1, 2, 2.5 or 5 × 10^k) inside ``[lo, hi]``.

    At most ``max_ticks`` (at least two where the range allows), with labels that have just
    enough decimals for the step (``0.25``, ``0.30``, ``-2``).
    """
    if hi <= lo or max_ticks < 1:
        return [lo], [f"{lo:.2f}"]
    raw = (hi - lo) / max(1, max_ticks - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))

    def count(step: float) -> int:
        return math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1

    # The finest round step that gives at most max_ticks ticks inside the limits.
    step = next(
        (m * magnitude for m in (0.5, 1, 2, 2.5, 5, 10) if count(m * magnitude) <= max_ticks),
        20 * magnitude,
    )
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    if not ticks:
        ticks = [round((lo + hi) / 2, 12)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step / 10**-decimals, 6) % 1:  # 2.5 × 10^k needs one more digit
        decimals += 1
    return ticks, [f"{t:.{decimals}f}" for t in ticks]


def in_window(times: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """The index range ``[a, b)`` of ascending ``times`` inside ``[lo, hi]``."""
    a = int(np.searchsorted(times, lo, side="left"))
    b = int(np.searchsorted(times, hi, side="right"))
    return a, b


def decimate_window(
    x: np.ndarray, y: np.ndarray, lo: float, hi: float, width: int, xf: int = 2
) -> list[Run]:
    """:func:`decimate_minmax` of the points inside ``[lo, hi]``, with each edge's neighbour.

    The nearest point left of ``lo`` and right of ``hi`` are added to the runs they continue
    (plotext clips a line at the limits), so a zoomed-in curve reaches both edges instead of
    stopping at the first sample inside; they are kept out of the edge columns' min/max.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    a, b = in_window(x, lo, hi)
    ok = np.isfinite(y)
    if a == b:
        # No sample inside (zoomed in between two samples): the segment joining them crosses.
        if 0 < a < len(x) and ok[a - 1] and ok[a]:
            return [Run(x[a - 1 : a + 1].copy(), y[a - 1 : a + 1].copy())]
        return []
    runs = decimate_minmax(x[a:b], y[a:b], lo, hi, width, xf)
    if runs and a > 0 and ok[a - 1] and ok[a]:
        runs[0] = Run(np.r_[x[a - 1], runs[0].x], np.r_[y[a - 1], runs[0].y])
    if runs and b < len(x) and ok[b] and ok[b - 1]:
        runs[-1] = Run(np.r_[runs[-1].x, x[b]], np.r_[runs[-1].y, y[b]])
    return runs


def value_limits(series: list[np.ndarray]) -> tuple[float, float]:
    """Y limits around every finite value of ``series`` with a little headroom; (0, 1) if none."""
    finite = [s[np.isfinite(s)] for s in series]
    finite = [f for f in finite if f.size]
    if not finite:
        return 0.0, 1.0
    lo = float(min(f.min() for f in finite))
    hi = float(max(f.max() for f in finite))
    pad = (hi - lo) * 0.08 if hi > lo else max(abs(hi) * 0.05, 0.01)
    return lo - pad, hi + pad


def segment_rows(
    series: Sequence[Any], ylo: float, yhi: float, height: int
) -> tuple[list[float], float]:
    """Where each series' segment bars go: y values below the curves, and the new lower limit.

    One text row per series with segments when the plot is tall enough (at least four rows of
    curve per bar row), else a single shared row. Series without segments get no row.

    Args:
        series: objects with a ``segments`` attribute (the chart's series).
        ylo: lower y limit of the curves.
        yhi: upper y limit of the curves.
        height: the chart's height in rows.

    Returns:
        ``(y of each series' bars, lower y limit including the bar rows)``.
    """
    with_bars = [i for i, s in enumerate(series) if getattr(s, "segments", ())]
    if not with_bars:
        return [ylo] * len(series), ylo
    canvas_rows = max(2, height - 4)  # the x axis, its labels, the y label and a border
    own_rows = len(with_bars) * 5 <= canvas_rows
    n_rows = len(with_bars) if own_rows else 1
    # Rows are shared out over the extended range, so one row is (range) / (canvas rows).
    step = (yhi - ylo) / max(1, canvas_rows - n_rows)
    out = [ylo] * len(series)
    for rank, i in enumerate(with_bars):
        row = rank if own_rows else 0
        out[i] = ylo - (row + 0.5) * step
    return out, ylo - n_rows * step
