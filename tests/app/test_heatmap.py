"""Unit tests of the heatmap's numbers: one cell per chart column, colour ramp."""

from __future__ import annotations

import numpy as np
import pytest

from clipvi_tui.widgets.chart_math import x_to_column
from clipvi_tui.widgets.heatmap import RAMP, Columns, column_values, ramp


@pytest.mark.parametrize("width", [7, 40, 113])
def test_each_cell_is_the_highest_score_drawn_in_its_chart_column(width: int) -> None:
    """Given dense samples, a cell holds the maximum of exactly the samples that plotext draws
    in that chart column (the chart's own binning), so a short peak is never lost."""
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 600, 3000))
    values = rng.normal(0.25, 0.02, times.size)
    values[1234] = 0.9  # one frame's peak
    cols = Columns(start=7, width=width, lo=0.0, hi=600.0)
    cells = column_values(times, values, cols)
    where = np.array([x_to_column(t, 0.0, 600.0, width) for t in times])
    for c in range(width):
        assert cells[c] == pytest.approx(values[where == c].max()), c
    assert cells[where[1234]] == pytest.approx(0.9)


def test_zoomed_in_columns_hold_the_previous_sample() -> None:
    """Given a window narrower than the sampling interval allows, an empty column shows the last
    sample before it (after the last one too: its frame stays on screen); before the first
    sample nothing is shown, and a sample not embedded yet (NaN) stays empty."""
    times = np.array([1.0, 2.0, 3.0])
    values = np.array([0.1, 0.5, 0.7])
    cells = column_values(times, values, Columns(0, 40, 0.0, 4.0))
    assert np.isnan(cells[:5]).all(), "before the first sample"
    middle = cells[(np.arange(40) >= 15) & (np.arange(40) < 18)]
    assert np.allclose(middle, 0.1), "between 1 s and 2 s: the 1 s sample"
    assert np.allclose(cells[-3:], 0.7), "after the last sample: held"
    values[2] = np.nan
    assert np.isnan(column_values(times, values, Columns(0, 40, 0.0, 4.0))[-3:]).all()
    assert np.isnan(column_values(times, values, Columns(0, 0, 0.0, 4.0))).all()


def test_ramp_runs_dark_to_bright_and_clips() -> None:
    """0 is the darkest colour, 1 the brightest, out-of-range values are clipped."""
    assert ramp(0.0) == RAMP[0] and ramp(1.0) == RAMP[-1]
    assert ramp(-3.0) == RAMP[0] and ramp(7.0) == RAMP[-1]
    brightness = [sum(ramp(t / 10)) for t in range(11)]
    assert brightness[-1] > brightness[0]
