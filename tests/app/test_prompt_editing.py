"""Pilot tests of the prompt panel's mouse actions and of undoing a deletion.

Rows read ``▸1 ■ text   score``: a click on the text selects the prompt, a click on the colour
swatch (content column 3) shows/hides its line.
"""

from __future__ import annotations

import numpy as np

from clipvi_tui.player.scoreboard import READY, ScoreBoard
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.prompts import PromptList
from tests.app.appfakes import MakeApp, ready, wait_for

SIZE = (120, 40)


async def test_click_on_a_prompt_row_selects_it(make_app: MakeApp) -> None:
    """Given two prompts, a click on the second row's text moves the cursor there (and
    nothing is hidden); a click below the last row does nothing."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.click("#prompts", offset=(12, 1))
        assert player.selected == 1
        assert all(e.visible for e in player.board.prompts)
        await pilot.click("#prompts", offset=(12, 6))
        assert player.selected == 1, "empty space is not a row"
        await pilot.click("#prompts", offset=(12, 0))
        assert player.selected == 0


async def test_click_on_a_swatch_shows_and_hides_the_line(make_app: MakeApp) -> None:
    """A click on row 2's swatch hides "green" (the chart loses its line), selects it, and a
    second click shows it again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = player.query_one("#chart", SimilarityChart)
        await pilot.click("#prompts", offset=(3, 1))
        assert [e.visible for e in player.board.prompts] == [True, False]
        assert player.selected == 1
        assert [s.label for s in chart._series] == ["red"]
        assert "□" in str(player.query_one("#prompts", PromptList).render())
        await pilot.click("#prompts", offset=(3, 1))
        assert [e.visible for e in player.board.prompts] == [True, True]


async def test_click_rows_when_the_panel_is_scrolled(make_app: MakeApp) -> None:
    """With more prompts than rows, a click hits the row drawn there, not the n-th prompt."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        player = await ready(pilot)
        for n in range(30):
            player.add_prompt(f"prompt number {n}")
        await pilot.pause(0.1)
        panel = player.query_one("#prompts", PromptList)
        top_row = panel.row_at(0)
        assert top_row is not None and top_row > 0, "scrolled to the cursor at the bottom"
        await pilot.click("#prompts", offset=(12, 0))
        assert player.selected == top_row


async def test_u_undoes_a_deletion(make_app: MakeApp) -> None:
    """d deletes the selected prompt and says u undoes it; u puts it back at its place with its
    colour and scores (no new request), selected; another u with nothing left rings the bell."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        red = player.board.prompts[0]
        colour, scores = red.color, red.scores.copy()
        calls = len(player.background.ready.client.text_calls)  # type: ignore[union-attr]
        await pilot.press("d")
        assert [e.text for e in player.board.prompts] == ["green"]
        assert any("u undoes" in str(n.message) for n in app._notifications)
        await pilot.press("u")
        assert [e.text for e in player.board.prompts] == ["red", "green"]
        assert player.selected == 0
        back = player.board.prompts[0]
        assert back.state == READY and back.color == colour
        assert np.array_equal(back.scores, scores, equal_nan=True)
        assert len(player.background.ready.client.text_calls) == calls  # type: ignore[union-attr]
        await pilot.press("u")
        assert [e.text for e in player.board.prompts] == ["red", "green"]
        assert any("Nothing to undo" in str(n.message) for n in app._notifications)


async def test_undo_of_several_deletions_goes_back_in_order(make_app: MakeApp) -> None:
    """Deleting both prompts and pressing u twice restores green, then red, each in place."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("d", "d")
        assert player.board.prompts == []
        await pilot.press("u")
        assert [e.text for e in player.board.prompts] == ["green"]
        await pilot.press("u")
        assert [e.text for e in player.board.prompts] == ["red", "green"]
        await wait_for(pilot, lambda: player.query_one("#chart", SimilarityChart)._series != [])


def test_restored_prompt_is_scored_on_frames_embedded_while_it_was_gone() -> None:
    """Frames that arrive after a deletion are scored for the prompt when it comes back; a prompt
    typed in again meanwhile is not duplicated by the undo."""
    board = ScoreBoard(np.arange(4), fps=1.0)
    board.add_frames(np.array([0]), np.array([[1.0, 0.0]]))
    board.add_prompt("x")
    board.set_vector("x", np.array([1.0, 0.0]))
    board.remove_prompt(0)
    board.add_frames(np.array([1]), np.array([[0.0, 1.0]]))
    assert board.restore_removed() == (0, True)
    assert board.prompts[0].scores[:2].tolist() == [1.0, 0.0]
    board.remove_prompt(0)
    board.add_prompt("x")
    assert board.restore_removed() == (0, False) and len(board.prompts) == 1
    assert board.restore_removed() is None
