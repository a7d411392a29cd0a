"""Pilot tests of the chart's view: time zoom (keys and wheel), following the playhead, exact
click-to-seek at every zoom, drag to scrub, value focus, ticks and title, no legend, heatmap.

The test video has 60 frames at 10 fps (6 s), sampled at 5 fps (frames 0, 2, …, 58).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from clipvi_tui.player.timewindow import MIN_SPAN_S
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.chart_area import ChartArea
from clipvi_tui.widgets.chart_math import x_to_column
from clipvi_tui.widgets.heatmap import Heatmap
from tests.app.appfakes import MakeApp, ready, wait_for

SIZE = (120, 40)


def chart_of(player: PlayerScreen) -> SimilarityChart:
    return player.query_one("#chart", SimilarityChart)


async def drawn(pilot: Pilot[Any], chart: SimilarityChart) -> None:
    """Wait until the chart's picture matches its current data, window and playhead (after a
    seek the player moves the chart's playhead once the new picture is painted)."""
    player = chart.screen
    await wait_for(pilot, lambda: not getattr(player, "chart_playhead_pending", False))
    await wait_for(pilot, lambda: chart._key is not None and chart._key == chart.current_key())


def span(chart: SimilarityChart) -> float:
    return chart.window.hi - chart.window.lo


async def test_plus_and_minus_zoom_around_the_playhead_and_0_resets(make_app: MakeApp) -> None:
    """Given the playhead at 3 s, + halves the visible time around it (the playhead stays at the
    same place in the window), again down to a few seconds, then rings the bell; - widens it
    again; 0 shows the whole video; the drawn x limits follow."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        player.seek(30)
        await pilot.pause(0.1)
        await pilot.press("plus")
        assert span(chart) == pytest.approx(3.0)
        assert chart.window.lo <= 3.0 <= chart.window.hi
        await drawn(pilot, chart)
        geo = chart.geometry
        assert geo is not None and (geo.lo, geo.hi) == pytest.approx(
            (chart.window.lo, chart.window.hi)
        ), "plotext draws the window"
        await pilot.press("equals_sign")  # = is + without shift
        assert span(chart) == pytest.approx(MIN_SPAN_S)
        bells = 0

        def bell() -> None:
            nonlocal bells
            bells += 1

        app.bell = bell  # type: ignore[method-assign]
        await pilot.press("plus")
        assert span(chart) == pytest.approx(MIN_SPAN_S) and bells == 1, "the limit rings"
        assert "0 whole video" in str(chart.border_subtitle)
        await pilot.press("minus")
        assert span(chart) == pytest.approx(2 * MIN_SPAN_S)
        await pilot.press("0")
        assert not chart.window.zoomed and (chart.window.lo, chart.window.hi) == (0.0, 6.0)
        assert not chart.border_subtitle


def _scroll(chart: SimilarityChart, up: bool) -> None:
    region = chart.content_region
    cls = events.MouseScrollUp if up else events.MouseScrollDown
    chart.post_message(cls(chart, 10, 3, 0, 0, 0, False, False, False, region.x + 10, region.y + 3))


async def test_the_wheel_over_the_chart_zooms(make_app: MakeApp) -> None:
    """Scrolling up over the chart zooms in around the playhead, down zooms out."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        _scroll(chart, up=True)
        await pilot.pause(0.1)
        assert span(chart) == pytest.approx(3.0) and chart.window.lo == 0.0
        _scroll(chart, up=False)
        await pilot.pause(0.1)
        assert not chart.window.zoomed


async def test_the_zoomed_window_follows_the_playhead(make_app: MakeApp) -> None:
    """Zoomed to 2 s, playing from 0 keeps the playhead inside the window: the window pages on
    as it nears the right edge; a seek elsewhere brings the window there."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        await pilot.press("plus", "plus", "space")
        starts = set()

        def inside() -> bool:
            t = player.config.info.time_of(player.frame)
            assert chart.window.lo <= t <= chart.window.hi, (t, chart.window.lo)
            starts.add(round(chart.window.lo, 3))
            return player.frame >= 45

        await wait_for(pilot, inside, timeout=8)
        assert len(starts) >= 2, "the window moved with the playhead"
        await pilot.press("space", "home")
        assert chart.window.lo == 0.0


@pytest.mark.parametrize("zooms", [1, 2])
async def test_click_to_seek_is_exact_in_a_zoomed_chart(make_app: MakeApp, zooms: int) -> None:
    """Given a zoomed chart, a click on plot column c seeks to the sampled frame drawn in column c
    (the raw frame at its middle if none is) and the playhead is then drawn in column c."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        player.seek(30)
        await pilot.press(*["plus"] * zooms)
        await drawn(pilot, chart)
        lo, hi = chart.window.lo, chart.window.hi
        geo = chart.geometry
        assert geo is not None and (geo.lo, geo.hi) == pytest.approx((lo, hi))
        info = player.config.info
        for c in (geo.width - 1, geo.width // 3, 4, geo.width // 2, 0):
            await pilot.click("#chart", offset=(geo.col_start + c + 1, 2))
            window = chart.span_at_column(geo.col_start + c)
            seconds = chart.time_at_column(geo.col_start + c)
            assert window is not None and seconds is not None
            assert lo - 1e-9 <= window[0] <= seconds <= window[1] <= hi + 1e-9
            sample = player.board.sampled_between(*window, seconds)
            expected = sample if sample is not None else info.frame_at(seconds)
            assert player.frame == expected, f"column {c} of {geo.width}, window {lo}-{hi}"
            assert (chart.window.lo, chart.window.hi) == (lo, hi), "a click inside never pages"
            await drawn(pilot, chart)
            assert chart._key is not None
            drawn_at = chart._key.playhead_column
            if sample is not None:
                assert drawn_at == c, f"the sampled frame's column {c}"
            else:
                # Zoomed in, a raw frame spans several columns: the click is inside the frame
                # and the playhead sits where the frame starts.
                start = info.time_of(expected)
                assert start <= seconds < start + 1 / info.fps
                assert drawn_at == x_to_column(max(lo, start), lo, hi, geo.width)


async def test_drag_scrubs_without_selecting_text(make_app: MakeApp) -> None:
    """Pressing the button on the chart and moving right seeks to every column on the way,
    forwards in time; dragging past the right edge stops at the last column; no text selection
    starts and releasing ends the scrub."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        await drawn(pilot, chart)
        geo = chart.geometry
        assert geo is not None
        seen: list[int] = []
        player.watch(player, "frame", lambda f: seen.append(f), init=False)
        x0 = geo.col_start + 1  # +1: the border
        await pilot.mouse_down("#chart", offset=(x0 + 2, 3))
        for dx in range(4, geo.width, 7):
            await pilot.hover("#chart", offset=(x0 + dx, 3))
        await pilot.hover("#chart", offset=(geo.col_start + geo.width + 1, 3))
        await pilot.mouse_up("#chart", offset=(geo.col_start + geo.width + 1, 3))
        await pilot.pause(0.1)
        assert len(seen) >= 10, seen
        assert seen == sorted(seen), "scrubbing right goes forward"
        assert seen[-1] >= 57, "past the right edge: the last column"
        assert player._select_state is None, "no text selection on the chart"
        moved = player.frame
        await pilot.hover("#chart", offset=(x0 + 5, 3))
        await pilot.pause(0.05)
        assert player.frame == moved, "after release, moving the mouse does not seek"


async def test_y_fits_the_curves_in_view_and_shift_y_resets(make_app: MakeApp) -> None:
    """With only "red" shown and the chart zoomed into 3–5 s (where red is low and flat),
    y fits the y axis to the values in view (a much narrower range) and says so; Y goes back to
    the range of all the data."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        player.seek(45)
        await pilot.press("2", "plus", "plus")
        assert chart.window.lo >= 2.5, "the window is past red's fall"
        await drawn(pilot, chart)
        full = chart.value_range
        await pilot.press("y")
        await drawn(pilot, chart)
        fitted = chart.value_range
        assert chart.focus_y and "y fitted" in str(chart.border_subtitle)
        assert fitted[1] - fitted[0] < (full[1] - full[0]) / 2, (fitted, full)
        await pilot.press("Y")
        await drawn(pilot, chart)
        assert not chart.focus_y and chart.value_range == full


async def test_ticks_are_round_the_title_names_the_view_and_no_legend(make_app: MakeApp) -> None:
    """The y ticks are round values, the border title is the view's name (it changes with v),
    and no legend is drawn over the data: the prompts' names are not in the plot."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        await drawn(pilot, chart)
        text = chart._picture.plain
        labels = re.findall(r"^\s*(-?\d+(?:\.\d+)?)┤", text, flags=re.MULTILINE)
        assert len(labels) >= 3, text
        assert all(round(float(v) * 20, 6) % 1 == 0 for v in labels), labels
        assert "red" not in text and "green" not in text, "no legend"
        assert chart.border_title == "raw: cosine similarity"
        await pilot.press("v")
        assert chart.border_title == "softmax: softmax over prompts"


@pytest.mark.parametrize(("size", "shown"), [((120, 40), True), ((80, 24), False)])
async def test_heatmap_strip_under_the_chart(
    make_app: MakeApp, size: tuple[int, int], shown: bool
) -> None:
    """The heatmap is shown on a tall terminal and hidden at 80×24 (h toggles it either way);
    its columns are the chart's, and each prompt's row is brightest in its own colour's third."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        player = await ready(pilot)
        heat = player.query_one("#heatmap", Heatmap)
        area = player.query_one(ChartArea)
        assert heat.display is shown
        await pilot.press("h")
        assert heat.display is not shown
        if not heat.display:
            await pilot.press("h")
        chart = chart_of(player)
        await drawn(pilot, chart)
        await pilot.pause(0.1)
        geo = chart.geometry
        assert geo is not None and heat._columns is not None
        assert (heat._columns.start, heat._columns.width) == (geo.col_start, geo.width)
        assert heat.region.x == chart.region.x, "same left edge: columns line up"
        heat.render()
        red, green = heat._cells
        third = geo.width // 3
        assert red[: third - 2].min() > red[third + 2 :].max(), "red lights up in the red third"
        assert green[third + 2 : 2 * third - 2].min() > green[: third - 2].max()
        assert area.heatmap_choice is True


async def test_a_zoomed_heatmap_follows_the_chart_window(make_app: MakeApp) -> None:
    """Zooming the chart re-bins the heatmap over the same window."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = chart_of(player)
        heat = player.query_one("#heatmap", Heatmap)
        await pilot.press("plus")
        await drawn(pilot, chart)
        await pilot.pause(0.1)
        assert heat._columns is not None
        assert (heat._columns.lo, heat._columns.hi) == pytest.approx(
            (chart.window.lo, chart.window.hi)
        )
