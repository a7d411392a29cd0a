"""Opening plays, Ctrl+C quits like q, and the status bar counts frames as exports do.

The test video has 60 frames at 10 fps (see ``appfakes``).
"""

from __future__ import annotations

import pytest
from rich.text import Text

from clipvi_tui.cli.commands import settings_from
from clipvi_tui.cli.parser import build_parsers
from clipvi_tui.config import Settings
from clipvi_tui.screens.dialogs import PromptDialog
from clipvi_tui.widgets.status import Part, StatusBar, StatusInfo, fit_parts, status_parts
from tests.app.appfakes import MakeApp, ready, shown, wait_for

SIZE = (120, 40)


async def test_the_app_plays_on_open(make_app: MakeApp, settings: Settings) -> None:
    """Given the default settings (autoplay on), the video plays as soon as the app is open: the
    clock runs and the painted frame advances without a key being pressed."""
    settings.autoplay = True
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = app.player
        await wait_for(pilot, lambda: player.playing, timeout=5)
        await wait_for(pilot, lambda: (shown(player) or 0) >= 5, timeout=5)
        await pilot.press("space")
        assert not player.playing, "space pauses what autoplay started"


async def test_paused_setting_opens_paused(make_app: MakeApp) -> None:
    """Given ``autoplay: false`` (what ``--paused`` sets), the app opens paused on frame 0."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        await pilot.pause(0.3)
        assert not player.playing and player.frame == 0 and shown(player) == 0


def test_paused_and_fresh_flags_reach_the_settings() -> None:
    """``--paused`` turns autoplay off and ``--fresh`` session restoring; without them both
    stay on (the defaults), and the subcommands never see them."""
    app_parser, sub_parser = build_parsers()
    s = settings_from(app_parser.parse_args(["v.mp4", "--paused", "--fresh"]))
    assert s.autoplay is False and s.restore_session is False
    s = settings_from(app_parser.parse_args(["v.mp4"]))
    assert s.autoplay is True and s.restore_session is True
    s = settings_from(sub_parser.parse_args(["index", "v.mp4"]))
    assert s.autoplay is True


@pytest.mark.parametrize("screen", ["player", "dialog"])
async def test_ctrl_c_quits_like_q(make_app: MakeApp, screen: str) -> None:
    """Given the player (or the add-prompt dialog, where ctrl+c would otherwise copy), ctrl+c
    exits with code 0 and stops the background work, as q does."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        if screen == "dialog":
            await pilot.press("a")
            assert isinstance(app.screen, PromptDialog)
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
    assert app.return_code == 0
    assert player.mailbox.closed


async def test_status_bar_frame_numbers_are_zero_based(make_app: MakeApp) -> None:
    """Frame numbers are the export's: frame 0 first, 59 last (of 60)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        player = await ready(pilot)
        status = player.query_one("#status", StatusBar)
        await wait_for(pilot, lambda: "frame 0/59" in str(status.render()))
        await pilot.press("end")
        await wait_for(pilot, lambda: "frame 59/59" in str(status.render()))


def test_status_line_takes_short_forms_before_dropping_fields() -> None:
    """Given a playing, fully indexed video, the full line is used when it fits; at 78 columns
    (80×24 minus padding) the fields shorten, least important first, and all of them stay; in
    very little room the least important fields go, the frame number last."""
    info = StatusInfo(
        frame=24,
        frame_count=60,
        seconds=2.4,
        duration=6.0,
        playing=True,
        indexed=30,
        index_total=30,
        server="connected",
        display_fps=12.0,
    )
    parts = status_parts(info)
    full = fit_parts(parts, 200).plain
    assert full.startswith("frame 24/59 │ 0:02.4 / 0:06 │ ▶ playing │ indexed 30/30 ✓")
    assert "server connected" in full and "display 12.0 fps" in full
    narrow = fit_parts(parts, 78).plain
    assert len(narrow) <= 78
    assert "frame 24/59" in narrow and "server ✓" in narrow and "12 fps" in narrow, narrow
    tiny = fit_parts(parts, 20).plain
    assert len(tiny) <= 20 and tiny.startswith("24/59"), tiny
    lone = fit_parts([Part(Text("x" * 30), Text("x" * 25), 0)], 10)
    assert lone.cell_len <= 10, "a single field is cut, never overflows"
