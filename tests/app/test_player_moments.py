"""Pilot tests: every key of finding moments, and the segment list.

The test video (see ``appfakes``): 60 frames at 10 fps sampled at 5 fps, frames 0–19 red, 20–39
green, 40–59 blue; the fake client scores "red" high on red frames. Its cosines never fall
below ≈0.25 (a constant part in every vector), so the presence floor is raised to 0.5 here.
"""

from __future__ import annotations

import numpy as np
import pytest

from clipvi_tui.config import Settings
from clipvi_tui.player.scoreboard import FRAME, READY
from clipvi_tui.screens.dialogs import ThresholdDialog
from clipvi_tui.screens.search import SearchScreen
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.segments import SegmentList
from clipvi_tui.widgets.status import StatusBar
from tests.app.appfakes import ColourClient, MakeApp, ready, wait_for

SIZE = (120, 40)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with a presence floor that suits the fake client's cosines."""
    settings.presence_floor = 0.5
    return settings


def chart_of(player) -> SimilarityChart:  # type: ignore[no-untyped-def]
    return player.query_one("#chart", SimilarityChart)


def spans(player) -> dict[str, list[tuple[int, int]]]:  # type: ignore[no-untyped-def]
    """prompt → [(start_frame, end_frame)] as the app found them."""
    out: dict[str, list[tuple[int, int]]] = {}
    for seg in player.moments.segments(player.board):
        out.setdefault(seg.prompt, []).append((seg.start_frame, seg.end_frame))
    return out


async def test_segments_are_found_listed_and_drawn(make_app: MakeApp) -> None:
    """Given the colour video, each prompt has one segment on its own colour; the list shows it
    with its span and peak, and the chart draws each prompt's threshold and segment."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.pause()
        assert spans(player) == {"red": [(0, 18)], "green": [(20, 38)]}
        listing = player.query_one("#segments", SegmentList)
        texts = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert texts[0].endswith("red") and "0:00.0–0:01.8" in texts[1]
        assert texts[2].endswith("green") and "0:02.0–0:03.8" in texts[3]
        series = chart_of(player)._series
        assert [s.segments for s in series] == [((0.0, 1.8),), ((2.0, 3.8),)]
        assert all(s.threshold is not None and 0.3 < s.threshold < 0.97 for s in series)
        assert chart_of(player)._y_label == "raw: cosine similarity"


async def test_v_cycles_the_views_and_the_chart_names_them(make_app: MakeApp) -> None:
    """v goes raw → softmax → baseline → zscore → raw; the y label and the status bar follow, and
    the softmax curves of the two prompts add up to 1."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await wait_for(pilot, lambda: all(e.state == READY for e in player.board.baselines))
        labels = []
        for _ in range(4):
            await pilot.press("v")
            labels.append(chart_of(player)._y_label)
            assert player.query_one("#status", StatusBar).info.view == player.moments.view
            if player.moments.view == "softmax":
                red, green = (s.values for s in chart_of(player)._series)
                assert np.allclose(red + green, 1.0)
        assert labels == [
            "softmax: softmax over prompts",
            "baseline: P(prompt vs baseline)",
            "zscore: robust z-score",
            "raw: cosine similarity",
        ]
        assert spans(player) == {"red": [(0, 18)], "green": [(20, 38)]}


async def test_brackets_widen_and_narrow_smoothing(make_app: MakeApp) -> None:
    """] widens the moving average, [ narrows it down to off; the status bar shows the window and
    the curve is smoothed in seconds (a step becomes a ramp)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        status = player.query_one("#status", StatusBar)
        raw_red = chart_of(player)._series[0].values.copy()
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert player.moments.smooth_s == 0.5 and status.info.smooth_s == 0.5
        smoothed = chart_of(player)._series[0].values
        assert smoothed[9] < raw_red[9] and smoothed[10] > raw_red[10], "the step is a ramp"
        await pilot.press("left_square_bracket")
        assert player.moments.smooth_s == 0.2
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert player.moments.smooth_s == 0.0 and status.info.smooth_s == 0.0
        assert np.allclose(chart_of(player)._series[0].values, raw_red, equal_nan=True)


async def test_t_sets_a_fixed_threshold_or_auto(make_app: MakeApp) -> None:
    """t asks for the selected prompt's threshold: a number fixes it (above every score: no
    segment, and the list says so), auto gives the curve back its own, junk is refused."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, ThresholdDialog)
        await pilot.press("ctrl+u", *"1.5", "enter")
        assert app.screen is player
        assert chart_of(player)._series[0].threshold == 1.5
        assert "red" not in spans(player)
        listing = player.query_one("#segments", SegmentList)
        assert "no segment" in str(listing.get_option_at_index(1).prompt)
        await pilot.press("t", "ctrl+u", *"oops", "enter")
        assert chart_of(player)._series[0].threshold == 1.5, "junk changes nothing"
        await pilot.press("t", "ctrl+u", *"auto", "enter")
        assert spans(player)["red"] == [(0, 18)]
        await pilot.press("t", "escape")
        assert app.screen is player


@pytest.fixture
def two_segments(settings: Settings) -> Settings:
    """One prompt on the red and the blue third: two segments."""
    settings.prompts = ["red or blue", "green"]
    return settings


async def test_n_and_shift_n_jump_between_segments(
    make_app: MakeApp, two_segments: Settings
) -> None:
    """n goes to the start of the selected prompt's next segment, N to the previous one; at the
    end there is none and the position stays."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert spans(player)["red or blue"] == [(0, 18), (40, 58)]
        await pilot.press("n")
        assert player.frame == 40
        await pilot.press("n")
        assert player.frame == 40, "no segment after the last"
        await pilot.press("N")
        assert player.frame == 0
        await pilot.press("down", "n")
        assert player.frame == 20, "n follows the selected prompt (green)"


async def test_segment_list_enter_seeks_and_esc_gives_keys_back(make_app: MakeApp) -> None:
    """l moves the keys to the segment list; ↓ and enter seek to that segment's start; esc gives
    the keys back to the player (→ steps again)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.pause()
        listing = player.query_one("#segments", SegmentList)
        await pilot.press("l")
        assert listing.has_focus
        await pilot.press("enter")
        assert player.frame == 0, "the first segment (red's) is highlighted on arrival"
        await pilot.press("down", "enter")
        assert player.frame == 20, "the second segment is green's"
        await pilot.press("escape")
        assert not listing.has_focus
        await pilot.press("right")
        assert player.frame == 22


async def test_clicking_a_segment_row_seeks(make_app: MakeApp) -> None:
    """A click on a segment row seeks there too."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.pause()
        listing = player.query_one("#segments", SegmentList)
        # Rows: the list's top edge, red's header, red's span, green's header, green's span.
        await pilot.click(listing, offset=(4, 4))
        await pilot.pause()
        assert player.frame == 20


async def test_s_shows_changes_and_x_jumps_to_spikes(make_app: MakeApp) -> None:
    """s switches the chart to each curve's change with its spikes marked; x / X go to the
    selected prompt's next / previous spike (where red ends and where it would start)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("s")
        assert player.moments.spikes_view and chart_of(player)._y_label.startswith("change of")
        red = chart_of(player)._series[0]
        assert red.threshold is None and red.segments == ()
        assert [round(t, 1) for t, _ in red.marks] == [2.0], "red drops where green begins"
        await pilot.press("x")
        assert player.frame == 20
        await pilot.press("x")
        assert player.frame == 20, "no spike after the last"
        await pilot.press("X", "s")
        assert player.frame == 20 and not player.moments.spikes_view


async def test_f_searches_moments_enter_seeks_p_keeps_the_query(
    make_app: MakeApp, client: ColourClient
) -> None:
    """f opens the search box; a query lists the video's best moments (the blue third first);
    enter seeks there; p keeps a query as a prompt; esc closes."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("f")
        search = app.screen
        assert isinstance(search, SearchScreen)
        await pilot.press(*"blue", "enter")
        await wait_for(pilot, lambda: bool(search.hits))
        assert 40 <= search.hits[0].frame <= 58 and search.hits[0].start_s >= 4.0
        frames = [h.frame for h in search.hits]
        assert len(set(frames)) == len(frames)
        await pilot.press("enter")
        assert app.screen is player and player.frame == search.hits[0].frame
        await pilot.press("f", *"blue", "enter")
        await wait_for(pilot, lambda: bool(app.screen.hits))  # type: ignore[attr-defined]
        await pilot.press("p")
        assert app.screen is player and player.board.prompts[-1].text == "blue"
        await pilot.press("f", "escape")
        assert app.screen is player


async def test_m_adds_more_like_this_frame_without_the_server(
    make_app: MakeApp, client: ColourClient
) -> None:
    """m adds a pseudo-prompt from the frame on screen: its curve is the frames' similarity to
    that frame (no text sent to the server) and its auto threshold rests on separation alone
    (image-to-image cosines are all high); the softmax view leaves it out."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        player.seek(44)
        calls = list(client.text_calls)
        await pilot.press("m")
        entry = player.board.prompts[-1]
        assert entry.kind == FRAME and entry.text == "like 0:04.4" and entry.state == READY
        assert player.selected == 2 and client.text_calls == calls
        assert entry.scores[22] == pytest.approx(1.0, abs=1e-3)
        assert entry.scores[20:].min() > entry.scores[:20].max()
        assert spans(player)["like 0:04.4"] == [(40, 58)]
        await pilot.press("v")
        assert [s.label for s in chart_of(player)._series] == ["red", "green"]


async def test_an_ensemble_prompt_is_one_line(make_app: MakeApp, client: ColourClient) -> None:
    """A prompt written "red | blue" is one prompt embedded part by part."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("a", *"red|blue", "enter")
        await wait_for(pilot, lambda: player.board.prompts[-1].state == READY)
        assert player.board.prompts[-1].text == "red | blue"
        assert "blue" in client.text_calls and "red|blue" not in client.text_calls
        assert spans(player)["red | blue"] == [(0, 18), (40, 58)]
