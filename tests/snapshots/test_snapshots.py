"""SVG snapshots of the player with a fixed renderer and fixed (fake-client) scores.

Regenerate after an intended change with ``pytest tests/snapshots --snapshot-update`` and look at
``snapshot_report.html``. Each docstring says what a reviewer should see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.command import CommandInput
from textual.pilot import Pilot

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.player.scoreboard import REJECTED
from clipvi_tui.widgets.chart import SimilarityChart
from tests.app.appfakes import ColourClient, ready, settle, wait_for

SIZE = (120, 40)
SnapCompare = Callable[..., bool]


def _app(tmp_path: Path, video: Path, graphics: str, prompts: list[str]) -> ClipviApp:
    # The fake client's cosines never fall below ≈0.25, so the presence floor is raised for a
    # readable picture: each prompt gets one segment, on its own colour.
    settings = Settings(
        cache_dir=tmp_path / "cache",
        sample_fps=5.0,
        server="external",
        prompts=prompts,
        presence_floor=0.5,
        autoplay=False,  # a still picture: snapshots must not depend on timing
    )
    client = ColourClient()
    return ClipviApp(
        settings, video, graphics=graphics, client_factory=lambda u: client, start_server=False
    )


async def _steady(pilot: Pilot[Any]) -> None:
    """Wait until the frame on screen and the chart picture match the current state."""
    app = pilot.app
    assert isinstance(app, ClipviApp)
    player = app.player
    await settle(pilot, player)
    chart = player.query_one("#chart", SimilarityChart)
    await wait_for(pilot, lambda: not player.chart_playhead_pending)
    await wait_for(pilot, lambda: chart._key is not None and chart._key == chart.current_key())
    app.clear_notifications()
    await pilot.pause(0.1)


def _at_frame(frame_steps: int, then: Callable[[Pilot[Any]], Awaitable[None]] | None = None):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        for _ in range(frame_steps):
            await pilot.press("right")
        if then is not None:
            await then(pilot)
        await _steady(pilot)

    return run_before


def test_player_halfcell(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """The main screen at 120×40, paused on frame 24 (0-based; a green frame), half-block video.

    Reviewer should see: the green frame with "24" and a white bar on the left, filling the
    video box without distortion; the prompt panel with red/green/blue, each swatch in the
    colour its prompt names, the cursor on "red", and "green" scoring highest (≈0.96); under it
    the "Segments (l)" list, one segment per prompt (red 0:00.0–0:01.8, green 0:02.0–0:03.8,
    blue 0:04.0–0:05.8) with peak score and time; the chart titled "raw: cosine similarity"
    with three lines over 0:00–0:06 in red, green and blue (red high on the first third, green
    on the second, blue on the last), round y ticks (0.2, 0.4, …), each prompt's threshold as a
    horizontal line in its colour, a bar per prompt under the curves marking its segment, NO
    legend over the curves, a light-grey playhead at 0:02.4; under the chart the "Heatmap (h)"
    strip, one row per prompt (1 ■ red, 2 ■ green, 3 ■ blue), bright where each curve is high,
    its columns aligned with the chart's and the playhead marked; the status bar reading
    "frame 24/59 │ 0:02.4 / 0:06 │ ⏸ paused │ indexed 30/30 ✓ │ raw · smooth off │ server
    connected"; the footer with the main keys (Step, Zoom, View, Threshold, … ? Help, q Quit,
    ^p palette).
    """
    app = _app(tmp_path, snapshot_video, "halfcell", ["red", "green", "blue"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(12))


def test_player_80x24(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """The smallest supported terminal, 80×24, paused on frame 24, half-block video.

    Reviewer should see: the video row (10 rows) with the picture and the prompt panel showing
    all three prompts (no segment list: it opens with l); the chart with 12 rows, 8 of them
    data above the time axis, titled "raw: cosine similarity", no legend covering the first
    seconds of the curves, the playhead visible at 0:02.4; no heatmap (hidden below 32 rows);
    the status bar fitting in one line with every field ("frame 24/59 │ 0:02.4 / 0:06 │ ⏸
    paused │ indexed 30/30 ✓ │ raw │ server ✓"-like short forms); the footer with space,
    ← → Step, a Add, + - Zoom, ? Help, q Quit and ^p palette, nothing cut off at the edge.
    """
    app = _app(tmp_path, snapshot_video, "halfcell", ["red", "green", "blue"])
    assert snap_compare(app, terminal_size=(80, 24), run_before=_at_frame(12))


def test_player_200x60_zoomed(
    snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path
) -> None:
    """A large terminal, 200×60, zoomed in once around the playhead at 0:02.4 with the y axis
    fitted to what is in view.

    Reviewer should see: a big video box and the prompt panel with the segment list; the
    chart's time axis over 0:01.2–0:04.2 (tenths in the labels), the curves reaching both edges,
    the playhead at 0:02.4, round y ticks, and on the bottom border "0:01.2–0:04.2 · 0 whole
    video │ y fitted · Y resets"; the heatmap strip binned over the same three seconds (red
    bright until 0:01.8, green from 0:02 to 0:03.8, blue from 0:04); the status bar in its long
    forms and the footer with every shown key.
    """

    async def zoom(pilot: Pilot[Any]) -> None:
        await pilot.press("plus", "y")

    app = _app(tmp_path, snapshot_video, "halfcell", ["red", "green", "blue"])
    assert snap_compare(app, terminal_size=(200, 60), run_before=_at_frame(12, zoom))


def test_command_palette(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """ctrl+p over the player, "zoom" typed.

    Reviewer should see: Textual's command palette at the top with "zoom" in the search box
    and the matching commands, each followed by its key: "Zoom the time axis in around the
    playhead  + / =", "Zoom the time axis out  -" (matched letters highlighted).
    """

    async def palette(pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+p", *"zoom")
        # A blinking cursor would make the picture depend on timing.
        pilot.app.screen.query_one(CommandInput).cursor_blink = False
        await pilot.pause(0.5)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await _steady(pilot)
        await palette(pilot)

    app = _app(tmp_path, snapshot_video, "unicode", ["red"])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_prompt_states(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """Hidden and rejected prompts, unicode renderer, paused on frame 1.

    Reviewer should see: prompt 2 ("green") with a hollow swatch and dimmed text (hidden) and no
    green line in the chart; prompt 3 (a 78-word prompt, truncated with "…") marked ✗ with the
    cursor on it and the server's reason ("… HTTP 400 …") on the line below; only the red line
    in the chart; a grey shaded-block picture of frame 0 in the video box.
    """

    async def hide_and_reject(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ClipviApp)
        player = app.player
        await pilot.press("2")
        player.add_prompt("red " + " ".join(["word"] * 77))
        await wait_for(pilot, lambda: player.board.prompts[2].state == REJECTED)

    app = _app(tmp_path, snapshot_video, "unicode", ["red", "green"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(0, hide_and_reject))


def test_help_screen(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """The ? help screen over the player.

    Reviewer should see: a "Keys" box listing every key — space, ←, →, shift+←/→, home, end,
    "," and ".", "a / /", d, "↑ / k", "↓ / j", 1 … 9, then the moment keys (v, [, ], t, n, N,
    l, s, x, X, f, m), ?, q, then the two mouse actions (click chart, click video) — scrolling
    if the terminal is short — with "esc, q or ? closes this help" on the box's bottom edge.
    """

    async def open_help(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")

    app = _app(tmp_path, snapshot_video, "unicode", ["red"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(0, open_help))


def test_add_prompt_dialog(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """The add-prompt input box with text typed in.

    Reviewer should see: a centred "Add prompt" box with the hint line and "a blue sky" typed
    in the input, over the dimmed player.
    """

    async def type_prompt(pilot: Pilot[Any]) -> None:
        await pilot.press("a", *"a blue sky")

    app = _app(tmp_path, snapshot_video, "unicode", ["red"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(0, type_prompt))


def test_search_box(snap_compare: SnapCompare, tmp_path: Path, snapshot_video: Path) -> None:
    """The f search box after a query.

    Reviewer should see: a centred "Search moments" box with "blue" typed in and a list of
    moments below it, best first: the first one in the blue third (score ≈0.99, near 0:04–0:06,
    with its span), the others lower; the hint "enter on a moment seeks there · p or ctrl+s
    keeps the query" under the list.
    """

    async def search(pilot: Pilot[Any]) -> None:
        await pilot.press("f", *"blue", "enter")
        await wait_for(pilot, lambda: bool(getattr(pilot.app.screen, "hits", None)))

    app = _app(tmp_path, snapshot_video, "unicode", ["red", "green"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(0, search))
