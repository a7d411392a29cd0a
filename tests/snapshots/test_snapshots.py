"""SVG snapshots of the player with a fixed renderer and fixed (fake-client) scores.

Regenerate after an intended change with ``pytest tests/snapshots --snapshot-update`` and look at
``snapshot_report.html``. Each docstring says what a reviewer should see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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
    """The main screen, paused on frame 25 of 60 (a green frame), half-block video.

    Reviewer should see: the green frame with "24" and a white bar on the left, filling the
    video box without distortion; the prompt panel with red/green/blue, the cursor on "red",
    and "green" scoring highest (≈0.96); under it the "Segments (l)" list, one segment per
    prompt (red 0:00.0–0:01.8, green 0:02.0–0:03.8, blue 0:04.0–0:05.8) with peak score and
    time; the chart with three lines over 0:00–0:06 (red high on the first third, green on the
    second, blue on the last), each prompt's threshold as a horizontal line in its colour, a
    bar per prompt under the curves marking its segment, a legend top-left, a red playhead at
    0:02.4 and the y label "raw: cosine similarity"; the status bar reading "frame 25/60 │
    0:02.4 / 0:06 │ ⏸ paused │ indexed 30/30 ✓ │ raw · smooth off │ server connected"; the
    footer with the main keys (View, Threshold, Next segment, Search among them).
    """
    app = _app(tmp_path, snapshot_video, "halfcell", ["red", "green", "blue"])
    assert snap_compare(app, terminal_size=SIZE, run_before=_at_frame(12))


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
