"""Pilot tests: every key of the player, asserting on state (frame, play state, prompts).

The test video has 60 frames at 10 fps, sampled at 5 fps (frames 0, 2, 4, …, 58); frames 0–19
are red, 20–39 green, 40–59 blue. The fake client embeds mean colours, so "red" scores highest on
red frames.
"""

from __future__ import annotations

import pytest

from clipvi_tui.player.scoreboard import READY
from clipvi_tui.screens.dialogs import HelpScreen, PromptDialog
from tests.app.appfakes import MakeApp, ready, settle, shown, wait_for

SIZE = (120, 40)


async def test_start_shows_first_frame_and_scores(make_app: MakeApp) -> None:
    """Given a fresh cache, when the app starts, then frame 0 is shown, all 30 sampled frames get
    embedded in the background and each prompt's curve peaks on its own colour."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        assert shown(player) == 0
        assert player.board.embedded == 30
        red, green = (e.scores for e in player.board.prompts)
        assert red[:10].min() > green[:10].max(), "red frames score higher on 'red'"
        assert green[10:20].min() > red[10:20].max(), "green frames score higher on 'green'"
        assert player.background.server_state == "connected"


async def test_space_plays_and_pauses(make_app: MakeApp) -> None:
    """Given the first frame, space starts real-time playback and space again pauses it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("space")
        assert player.playing
        await wait_for(pilot, lambda: player.frame >= 5, timeout=5)
        await pilot.press("space")
        assert not player.playing
        stopped_at = player.frame
        await pilot.pause(0.3)
        assert player.frame == stopped_at, "paused: the position does not move"
        await settle(pilot, player)


async def test_playback_stops_at_the_end_and_restarts(make_app: MakeApp) -> None:
    """Playing near the end stops on the last frame; space there starts over from frame 0."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        player.seek(55)
        await pilot.press("space")
        await wait_for(pilot, lambda: not player.playing, timeout=5)
        assert player.frame == 59
        await pilot.press("space")
        assert player.playing and player.frame < 10


async def test_arrows_step_between_sampled_frames(make_app: MakeApp) -> None:
    """→/← move to the next/previous *sampled* frame and pause playback."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("right", "right")
        assert player.frame == 4
        await pilot.press("left")
        assert player.frame == 2
        await pilot.press("full_stop", "right")
        assert player.frame == 4, "from raw frame 3 the next sample is 4"
        await pilot.press("space", "right")
        assert not player.playing, "stepping pauses"
        await settle(pilot, player)


async def test_shift_arrows_jump_five_seconds(make_app: MakeApp) -> None:
    """shift+→ jumps 5 s (50 frames at 10 fps), shift+← back, clamped to the video."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("shift+right")
        assert player.frame == 50
        await pilot.press("shift+right")
        assert player.frame == 59
        await pilot.press("shift+left", "shift+left")
        assert player.frame == 0
        await settle(pilot, player)


async def test_home_and_end(make_app: MakeApp) -> None:
    """end goes to the last frame (and pauses), home back to the first."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("space", "end")
        assert player.frame == 59 and not player.playing
        await settle(pilot, player)
        await pilot.press("home")
        assert player.frame == 0
        await settle(pilot, player)


async def test_comma_and_full_stop_step_raw_frames(make_app: MakeApp) -> None:
    """. and , move one raw (not sampled) frame, clamped at the start."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("full_stop", "full_stop", "full_stop")
        assert player.frame == 3
        await settle(pilot, player)
        await pilot.press("comma")
        assert player.frame == 2
        await pilot.press("comma", "comma", "comma")
        assert player.frame == 0
        await settle(pilot, player)


@pytest.mark.parametrize("key", ["a", "slash"])
async def test_add_prompt_dialog(make_app: MakeApp, key: str) -> None:
    """a (or /) opens the input box; enter adds the prompt, it gets a vector and a curve and the
    cursor moves to it; esc cancels without adding."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press(key)
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"blue sky", "enter")
        assert app.screen is player
        assert [e.text for e in player.board.prompts] == ["red", "green", "blue sky"]
        assert player.selected == 2
        await wait_for(pilot, lambda: player.board.prompts[2].state == READY)
        blue = player.board.prompts[2].scores
        assert blue[20:].min() > blue[:10].max(), "blue frames score higher on 'blue sky'"
        await pilot.press(key, "x", "escape")
        assert app.screen is player and len(player.board.prompts) == 3


async def test_typing_q_in_the_dialog_does_not_quit(make_app: MakeApp) -> None:
    """Letters that are keys elsewhere (q, d, digits) go into the input box."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("a", *"quiet dog 1", "enter")
        assert player.board.prompts[-1].text == "quiet dog 1"
        assert app.is_running


async def test_d_deletes_the_selected_prompt(make_app: MakeApp) -> None:
    """d removes the prompt under the cursor; on an empty list it only rings the bell."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("down", "d")
        assert [e.text for e in player.board.prompts] == ["red"]
        assert player.selected == 0
        await pilot.press("d", "d")
        assert player.board.prompts == [] and player.selected == 0


async def test_number_keys_toggle_prompt_lines(make_app: MakeApp) -> None:
    """1–9 hide/show the line of prompt 1–9; the chart draws only visible ready prompts."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        chart = player.query_one("#chart")
        await pilot.press("2")
        assert [e.visible for e in player.board.prompts] == [True, False]
        assert [s.label for s in chart._series] == ["red"]
        await pilot.press("1", "2")
        assert [e.visible for e in player.board.prompts] == [False, True]
        assert [s.label for s in chart._series] == ["green"]
        for n in range(3, 10):
            await pilot.press(str(n))  # no such prompt: ignored
        assert [e.visible for e in player.board.prompts] == [False, True]


@pytest.mark.parametrize(("down", "up"), [("down", "up"), ("j", "k")])
async def test_cursor_keys_select_prompts(make_app: MakeApp, down: str, up: str) -> None:
    """↓/j and ↑/k move the prompt cursor, clamped to the list."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press(down)
        assert player.selected == 1
        await pilot.press(down)
        assert player.selected == 1
        await pilot.press(up, up)
        assert player.selected == 0
        assert player.frame == 0, "prompt keys never seek"


async def test_help_lists_every_key(make_app: MakeApp) -> None:
    """? opens the help screen, which names every binding of the player and the app; esc, q or
    ? close it again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(f"{k} {d}" for k, d in app.screen.rows)
        for label in ("space", "←", "→", "shift+←", "shift+→", "home", "end", ",", "."):
            assert label in text, label
        for label in ("a / /", "d", "↑ / k", "↓ / j", "?", "q"):
            assert label in text, label
        for n in range(1, 10):
            assert f"{n} Show/hide prompt {n}" in text
        for close in ("escape", "q", "question_mark"):
            await pilot.press(close)
            assert app.screen is player, f"{close} closes help"
            if close != "question_mark":
                await pilot.press("question_mark")


async def test_q_quits_and_stops_background_work(make_app: MakeApp) -> None:
    """q exits with code 0 and cancels the indexer and the decoder."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.press("q")
        await pilot.pause(0.1)
    assert app.return_code == 0
    assert player.mailbox.closed
    assert player.background.indexer is not None and player.background.indexer.cancelled


async def test_click_on_video_toggles_play(make_app: MakeApp) -> None:
    """A click on the picture plays; another pauses."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.click("#video", offset=(20, 5))
        assert player.playing
        await pilot.click("#video", offset=(20, 5))
        assert not player.playing


async def test_prompt_panel_scrolls_to_the_cursor(make_app: MakeApp) -> None:
    """With more prompts than panel rows, the selected prompt stays visible."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        player = await ready(pilot)
        for n in range(40):
            player.add_prompt(f"prompt number {n}")
        await pilot.pause(0.1)
        panel = player.query_one("#prompts")
        assert "prompt number 39" in str(panel.render()), "cursor on the last added prompt"
        for _ in range(41):
            await pilot.press("up")
        text = str(panel.render())
        assert "▸1" in text and "prompt number 39" not in text
