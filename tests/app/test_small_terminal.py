"""80×24 is usable: the chart keeps 8 rows of data, the status bar and the footer fit, the
segment list opens on demand; larger terminals show more."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.status import StatusBar
from tests.app.appfakes import MakeApp, ready, wait_for

ESSENTIAL = {"toggle_play", "step(-1)", "step(1)", "add_prompt", "zoom(1)", "help", "quit"}


def data_rows(chart: SimilarityChart) -> int:
    """Rows of the plot above the time axis."""
    lines = chart._picture.plain.splitlines()
    return next(i for i, line in enumerate(lines) if "└" in line)


async def _steady(pilot: Pilot[Any], player: PlayerScreen) -> SimilarityChart:
    chart = player.query_one("#chart", SimilarityChart)
    await wait_for(pilot, lambda: not player.chart_playhead_pending)
    await wait_for(pilot, lambda: chart._key is not None and chart._key == chart.current_key())
    await pilot.pause(0.2)
    return chart


def shown_keys(player: PlayerScreen, width: int) -> set[str]:
    """Actions of the footer keys that are displayed and inside the screen."""
    return {
        k.action
        for k in player.query(FooterKey)
        if k.display and k.region.width > 0 and k.region.right <= width
    }


async def test_80x24_keeps_the_chart_status_and_footer_usable(make_app: MakeApp) -> None:
    """At 80×24 the chart has at least 8 rows of data, the status line fits with every field
    (short forms), and the footer shows the essential keys and the palette, none cut off."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        player = await ready(pilot)
        await pilot.press("space")  # playing: the longest status line
        chart = await _steady(pilot, player)
        assert data_rows(chart) >= 8
        status = str(player.query_one("#status", StatusBar).render())
        assert len(status) <= 78, status
        for part in ("frame", "▶", "30/30", "raw", "server"):
            assert part in status, (part, status)
        keys = shown_keys(player, 80)
        assert keys >= ESSENTIAL, keys
        assert "command_palette" in keys
        hidden = [k for k in player.query(FooterKey) if not k.display]
        assert hidden, "something had to give way at 80 columns"
        assert all(k.region.right <= 80 for k in player.query(FooterKey) if k.display)


@pytest.mark.parametrize("size", [(120, 40), (200, 60)])
async def test_larger_terminals_show_more(make_app: MakeApp, size: tuple[int, int]) -> None:
    """On a larger terminal the chart is taller, the status line uses its long forms, and the
    footer has room for the finding-moments keys too."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        player = await ready(pilot)
        chart = await _steady(pilot, player)
        assert data_rows(chart) >= 10
        assert "frame 0/59" in str(player.query_one("#status", StatusBar).render())
        keys = shown_keys(player, size[0])
        assert ESSENTIAL | {"delete_prompt", "cycle_view"} <= keys, keys
        if size[0] >= 200:
            assert all(k.display for k in player.query(FooterKey)), "everything fits"


async def test_segment_list_opens_in_the_prompts_place_at_80x24(make_app: MakeApp) -> None:
    """At 80×24 the segment list is hidden so the prompts keep the panel; l opens it in their
    place (with the keys), esc gives the panel back to the prompts."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        player = await ready(pilot)
        segments = player.query_one("#segments")
        prompts = player.query_one("#prompts")
        assert not segments.display and prompts.display
        await pilot.press("l")
        await wait_for(pilot, lambda: segments.has_focus)
        assert segments.display and not prompts.display
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert not segments.display and prompts.display
        assert player.focused is None


async def test_resizing_refits(make_app: MakeApp) -> None:
    """Growing from 80×24 to 200×60 shows the heatmap and brings the footer's keys back."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        player = await ready(pilot)
        await _steady(pilot, player)
        assert not player.query_one("#heatmap").display
        await pilot.resize_terminal(200, 60)
        await pilot.pause(0.3)
        assert player.query_one("#heatmap").display
        assert all(k.display for k in player.query(FooterKey))
