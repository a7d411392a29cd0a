"""The heatmap strip under the chart: one row per visible prompt, one cell per chart column.

On a 10-minute video the line chart is a dense band; the heatmap shows at a glance where each
prompt lights up. Its columns are the chart's columns (same time window, same plotext binning, see
:func:`column_values`), so a bright cell sits right under the stretch of curve it summarises, and
its colour scale is the chart's y range, so value focus brightens both. A cell shows the highest
score of the sampled frames drawn in that column (a moment shorter than a column still shows);
a column that holds no sampled frame (zoomed in, or after the last sample) shows the last one
before it, as the prompt panel does between samples.

Render only: the screen gives it the rows, the chart's column geometry and the playhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

from clipvi_tui.widgets.chart_math import column_span, x_to_column

RGB = tuple[int, int, int]

# A perceptually even dark-to-bright ramp (viridis' anchors), readable for colour-blind users;
# the row's swatch, not the cells, carries the prompt's line colour.
RAMP: tuple[RGB, ...] = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
MISSING = "·"  # a column with no score yet (not embedded)


@dataclass(frozen=True)
class HeatRow:
    """One prompt's row: its number, line colour and scores aligned with the sampled times."""

    number: int
    color: RGB
    values: np.ndarray


@dataclass(frozen=True)
class Columns:
    """The chart's data area: where it starts (content column), how wide, its x limits."""

    start: int
    width: int
    lo: float
    hi: float
    xf: int = 2


def column_values(times: np.ndarray, values: np.ndarray, cols: Columns) -> np.ndarray:
    """Per chart column, the highest finite value drawn there (NaN where nothing is known).

    A column holding no sampled time takes the last sample before it (zoomed in beyond the
    sampling rate, or past the last sample: its frame is on screen until the video ends), never
    anything before the first sample.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    out = np.full(cols.width, np.nan)
    if cols.width <= 0 or times.size == 0 or cols.hi <= cols.lo:
        return out
    for c in range(cols.width):
        x0, x1 = column_span(c, cols.lo, cols.hi, cols.width, cols.xf)
        a = int(np.searchsorted(times, x0, side="left"))
        b = int(np.searchsorted(times, x1, side="left"))
        if c == cols.width - 1:
            b = int(np.searchsorted(times, x1, side="right"))  # the last column includes hi
        if b > a:
            chunk = values[a:b]
            finite = chunk[np.isfinite(chunk)]
            if finite.size:
                out[c] = finite.max()
        elif a > 0:
            out[c] = values[a - 1]  # after a sample: hold it, as the prompt panel does
    return out


def ramp(t: float) -> RGB:
    """The colour for ``t`` in ``[0, 1]`` (clipped) on :data:`RAMP`."""
    t = min(1.0, max(0.0, t)) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    f = t - i
    a, b = RAMP[i], RAMP[i + 1]
    return (
        round(a[0] + (b[0] - a[0]) * f),
        round(a[1] + (b[1] - a[1]) * f),
        round(a[2] + (b[2] - a[2]) * f),
    )


class Heatmap(Widget):
    """Prompts × time, coloured by score; aligned with the chart above it."""

    DEFAULT_CSS = """
    Heatmap {
        height: auto;
        max-height: 10;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty strip."""
        super().__init__(id=id)
        self._times: np.ndarray = np.zeros(0)
        self._rows: list[HeatRow] = []
        self._range = (0.0, 1.0)
        self._columns: Columns | None = None
        self._playhead = 0.0
        self._cells: list[np.ndarray] = []  # per row, the column values (cached)
        self._cells_key: Columns | None = None  # what _cells were computed for (None: stale)

    def set_data(self, times: np.ndarray, rows: list[HeatRow]) -> None:
        """Show ``rows`` over ``times`` (seconds)."""
        self._times = np.asarray(times, dtype=np.float64)
        self._rows = list(rows)
        self._cells_key = None
        self.refresh(layout=True)

    def set_columns(self, columns: Columns, value_range: tuple[float, float]) -> None:
        """Follow the chart's data area and y range (after each chart build)."""
        if (columns, value_range) != (self._columns, self._range):
            self._columns, self._range = columns, value_range
            self._cells_key = None
            self.refresh()

    def set_playhead(self, seconds: float) -> None:
        """Mark the playhead's column (repaints only when the column changes)."""
        cols = self._columns
        old = self._playhead_column()
        self._playhead = seconds
        if cols is not None and self._playhead_column() != old:
            self.refresh()

    def _playhead_column(self) -> int | None:
        cols = self._columns
        if cols is None or not cols.lo <= self._playhead <= cols.hi:
            return None
        return x_to_column(self._playhead, cols.lo, cols.hi, cols.width, cols.xf)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One line per row (at least one, for the "no prompts" line)."""
        return max(1, len(self._rows))

    def render(self) -> RenderResult:
        """The rows, each ``  n ■`` under the chart's y labels, then one cell per column."""
        cols = self._columns
        if cols is None or not self._rows:
            return Text("no curves to show", style="dim italic")
        if cols != self._cells_key:
            self._cells = [column_values(self._times, r.values, cols) for r in self._rows]
            self._cells_key = cols
        lo, hi = self._range
        scale = hi - lo if hi > lo else 1.0
        playhead = self._playhead_column()
        lines = []
        for row, cells in zip(self._rows, self._cells, strict=True):
            line = Text(no_wrap=True, overflow="crop")
            label = f"{row.number} "
            line.append(label.rjust(max(0, cols.start - 1)))
            line.append("■", style=Style(color="rgb({},{},{})".format(*row.color)))
            for c, v in enumerate(cells):
                mark = "│" if c == playhead else " "
                if np.isnan(v):
                    line.append(MISSING if mark == " " else mark, style="dim")
                    continue
                bg = "rgb({},{},{})".format(*ramp((v - lo) / scale))
                line.append(mark, style=Style(bgcolor=bg, color="white", bold=True))
            lines.append(line)
        return Text("\n").join(lines)
