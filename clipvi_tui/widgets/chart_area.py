"""The chart area: the similarity chart and, under it, the heatmap strip, kept in step.

The heatmap's columns are the chart's (the chart tells where they are after each build), its
colour scale is the chart's y range, and both follow the same playhead. The strip is shown when
the terminal is tall enough (:data:`HEATMAP_MIN_ROWS`); the heatmap key overrides that either way
for the rest of the session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical

from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.chart_figure import Series
from clipvi_tui.widgets.heatmap import Columns, Heatmap, HeatRow

# Below this terminal height the heatmap starts hidden: at 80×24 the chart needs the rows.
HEATMAP_MIN_ROWS = 32


class ChartArea(Vertical):
    """The chart with the heatmap strip under it."""

    DEFAULT_CSS = """
    ChartArea {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        """Create the chart (``#chart``) and the heatmap (``#heatmap``)."""
        super().__init__(id=id)
        self.chart = SimilarityChart(id="chart")
        self.heatmap = Heatmap(id="heatmap")
        self.heatmap_choice: bool | None = None  # None: by terminal height

    def compose(self) -> ComposeResult:
        """The chart on top, the strip below."""
        yield self.chart
        yield self.heatmap

    def on_mount(self) -> None:
        """Title the strip."""
        self.heatmap.border_title = "Heatmap (h)"
        self._apply_heatmap()

    def set_data(
        self,
        times: np.ndarray,
        series: Sequence[Series],
        duration: float,
        numbers: Mapping[str, int],
        *,
        live: bool = False,
        y_label: str = "",
    ) -> None:
        """Draw ``series`` over ``times`` in both; ``numbers`` gives each prompt's row number."""
        self.chart.set_data(times, list(series), duration, live=live, y_label=y_label)
        rows = [HeatRow(numbers.get(s.label, 0), s.color, s.values) for s in series]
        self.heatmap.set_data(times, rows)

    def set_playhead(self, seconds: float, playing: bool = False) -> None:
        """Move the playhead in both (a zoomed window pages along while ``playing``)."""
        self.chart.set_playhead(seconds, playing)
        self.heatmap.set_playhead(seconds)

    @on(SimilarityChart.Drawn)
    def _chart_drawn(self, message: SimilarityChart.Drawn) -> None:
        geo = message.geometry
        self.heatmap.set_columns(
            Columns(geo.col_start, geo.width, geo.lo, geo.hi), message.value_range
        )

    def toggle_heatmap(self) -> bool:
        """Show the strip if hidden, hide it if shown; returns whether it is shown now."""
        self.heatmap_choice = not self.heatmap.display
        self._apply_heatmap()
        return self.heatmap.display

    def on_resize(self, event: events.Resize) -> None:
        """A terminal that grew tall enough shows the strip (unless the key said otherwise)."""
        self._apply_heatmap()

    def _apply_heatmap(self) -> None:
        shown = self.heatmap_choice
        if shown is None:
            shown = self.app.size.height >= HEATMAP_MIN_ROWS
        self.heatmap.display = shown
