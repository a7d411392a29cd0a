"""Pilot tests of what runs behind the keys: chart clicks, stale frames, server trouble, prompts
the server rejects, the cache across runs, the indexer following the playhead, and the messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest
from textual.message import Message
from textual.pilot import Pilot

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.player.frames import DecodedFrame, FrameRequest
from clipvi_tui.player.geometry import FrameGeometry
from clipvi_tui.player.messages import (
    CacheLoaded,
    EmbeddingsStored,
    FrameDecoded,
    IndexerStarted,
    IndexProgressed,
    PromptEmbedded,
    ServerStateChanged,
    ServicesReady,
)
from clipvi_tui.player.scoreboard import PENDING, READY, REJECTED
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.chart import SimilarityChart
from clipvi_tui.widgets.chart_math import x_to_column
from clipvi_tui.widgets.status import StatusBar
from tests.app.appfakes import ColourClient, MakeApp, ready, settle, shown, wait_for


def record_messages(player: PlayerScreen) -> list[Message]:
    """Collect every message the player screen processes from now on."""
    seen: list[Message] = []
    player.message_signal.subscribe(player, seen.append, immediate=True)
    return seen


async def chart_drawn(pilot: Pilot[Any], chart: SimilarityChart) -> None:
    """Wait until the chart's picture matches its current data and playhead (after a seek the
    player moves the chart's playhead once the new picture is painted)."""
    player = chart.screen
    assert isinstance(player, PlayerScreen)
    await wait_for(pilot, lambda: not player.chart_playhead_pending)
    await wait_for(pilot, lambda: chart._key is not None and chart._key == chart.current_key())


def status_text(player: PlayerScreen) -> str:
    """The status bar's line as plain text."""
    return str(player.query_one("#status", StatusBar).render())


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
async def test_chart_click_seeks_to_the_frame_under_the_column(
    make_app: MakeApp, size: tuple[int, int]
) -> None:
    """Given the chart at several terminal sizes, a click on plot column c seeks to the sampled
    frame drawn in column c (the raw frame at its middle if no sample falls there), the playhead
    is then drawn in column c (±1 where no frame falls in it), and a click on the y-axis labels
    does nothing."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        player = await ready(pilot)
        chart = player.query_one("#chart", SimilarityChart)
        await chart_drawn(pilot, chart)
        geo = chart.geometry
        assert geo is not None and geo.width > 10
        info = player.config.info
        per_frame = geo.width / info.frame_count  # columns per raw frame
        for c in (geo.width - 1, geo.width // 3, 5, geo.width // 2, 0):
            # +1: the chart's border; row 2 is inside the plot area.
            await pilot.click("#chart", offset=(geo.col_start + c + 1, 2))
            span = chart.span_at_column(geo.col_start + c)
            seconds = chart.time_at_column(geo.col_start + c)
            assert span is not None and seconds is not None
            assert span[0] <= seconds <= span[1]
            sample = player.board.sampled_between(*span, seconds)
            expected = sample if sample is not None else info.frame_at(seconds)
            assert player.frame == expected, f"column {c} of {geo.width} at {size}"
            await chart_drawn(pilot, chart)
            drawn = chart._key.playhead_column if chart._key else None
            assert drawn == x_to_column(info.time_of(expected), geo.lo, geo.hi, geo.width)
            if sample is not None:
                assert drawn == c, "the clicked column holds the sample: the playhead lands there"
            else:
                assert drawn is not None and abs(drawn - c) <= 1 + per_frame
        before = player.frame
        await pilot.click("#chart", offset=(2, 2))  # on the "0.50" tick labels
        assert player.frame == before


async def test_chart_rebuilds_only_when_the_playhead_column_changes(make_app: MakeApp) -> None:
    """Given a drawn chart, moving the playhead inside its column costs no plotext build."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        chart = player.query_one("#chart", SimilarityChart)
        await chart_drawn(pilot, chart)
        builds = chart.build_count
        col = chart._key.playhead_column if chart._key else None
        geo = chart.geometry
        assert geo is not None and col is not None
        for k in range(20):  # times inside column `col`
            chart.set_playhead(k * 1e-4)
            assert chart.current_key().playhead_column == col
        await pilot.pause(0.3)
        assert chart.build_count == builds
        chart.set_playhead(5.0)
        await chart_drawn(pilot, chart)
        assert chart.build_count == builds + 1


async def test_stale_frames_are_dropped(make_app: MakeApp) -> None:
    """A frame decoded for a position the user has already left (older seek generation) is
    never painted."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        await pilot.press("right")
        await settle(pilot, player)
        dropped = player.stats.dropped
        old = FrameRequest(
            frame=40, generation=player.frame_display.generation - 1, cols=10, rows=5
        )
        image = player.query_one("#video").children[1].image
        player.post_message(FrameDecoded(DecodedFrame(old, image, FrameGeometry(10, 5, 10, 5), 0)))
        await pilot.pause(0.2)
        assert shown(player) == 2
        assert player.stats.dropped == dropped + 1


async def test_server_down_keeps_playback_and_recovers(make_app: MakeApp, client: Any) -> None:
    """Given an unreachable server, the status bar says so, playback and seeking work, prompts
    wait; when the server comes back, indexing completes and the prompts get their vectors."""
    client.down.set()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        await wait_for(pilot, lambda: player.background.server_state == "unreachable")
        assert "unreachable" in status_text(player)
        await wait_for(pilot, lambda: player.stats.paints >= 1)
        await pilot.press("space")
        await wait_for(pilot, lambda: player.frame >= 5)
        await pilot.press("space", "end")
        await settle(pilot, player)
        assert player.board.prompts[0].state == PENDING
        assert "waiting for the server" in player.board.prompts[0].note
        client.down.clear()
        await wait_for(
            pilot,
            lambda: (
                player.background.index_state == "done"
                and all(e.state == READY for e in player.board.prompts)
            ),
            timeout=20,
        )
        assert player.background.server_state == "connected"
        assert player.board.embedded == 30


async def test_rejected_prompt_is_reported_not_fatal(make_app: MakeApp) -> None:
    """A prompt the server refuses (over 77 tokens) is marked ✗ with the reason and notified;
    the app and the other prompts carry on."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        player.add_prompt(" ".join(["word"] * 80))
        await wait_for(pilot, lambda: player.board.prompts[2].state == REJECTED)
        assert "HTTP 400" in player.board.prompts[2].note
        assert any("rejected" in n.message for n in app._notifications)
        await pilot.press("3")
        assert app.is_running and all(e.state == READY for e in player.board.prompts[:2])


async def test_second_run_reads_everything_from_the_cache(
    settings: Settings, video_path: Any, make_app: MakeApp
) -> None:
    """Given a first run that indexed the video, a second run with the same cache shows all
    scores without sending a single image or prompt to the server."""
    first = make_app()
    async with first.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
    fresh = ColourClient()
    second = ClipviApp(
        settings, video_path, graphics="unicode", client_factory=lambda u: fresh, start_server=False
    )
    async with second.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        assert player.board.embedded == 30
        assert fresh.image_calls == 0 and fresh.text_calls == []


async def test_indexer_follows_the_playhead(settings: Settings, video_path: Any) -> None:
    """Given a slow server, seeking to the end makes the frames there get embedded before the
    ones in the middle that nobody is looking at."""
    settings.sample_fps = None  # all 60 frames: more than the indexer claims ahead
    slow = ColourClient(delay=0.15)
    app = ClipviApp(
        settings, video_path, graphics="unicode", client_factory=lambda u: slow, start_server=False
    )
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        seen = record_messages(player)
        await wait_for(pilot, lambda: player.background.indexer is not None)
        player.seek(50)
        await wait_for(pilot, lambda: player.background.index_state == "done", timeout=20)
        order = np.concatenate([m.indices for m in seen if isinstance(m, EmbeddingsStored)])
        assert sorted(order.tolist()) == list(range(60))
        where = {int(f): i for i, f in enumerate(order)}
        assert where[55] < where[45], f"embedding order: {order.tolist()}"


async def test_messages_flow_from_workers(make_app: MakeApp, client: ColourClient) -> None:
    """Workers talk to the screen only through typed messages: cache, services, indexer,
    progress, prompt vectors, server state and decoded frames all arrive as messages."""
    gate = threading.Event()  # holds the services worker until the recorder listens

    def factory(url: str) -> ColourClient:
        gate.wait(5)
        return client

    app = make_app(client_factory=factory)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = record_messages(app.player)
        gate.set()
        player = await ready(pilot)
        await pilot.press("right")  # the first frame may have been decoded before we listened
        await settle(pilot, player)
        kinds = {type(m) for m in seen}
        expected: list[type[Message]] = [
            CacheLoaded,
            ServicesReady,
            IndexerStarted,
            EmbeddingsStored,
            IndexProgressed,
            PromptEmbedded,
            ServerStateChanged,
            FrameDecoded,
        ]
        for kind in expected:
            assert kind in kinds, kind.__name__
        stored = [int(i) for m in seen if isinstance(m, EmbeddingsStored) for i in m.indices]
        assert sorted(stored) == list(range(0, 60, 2))


async def test_status_bar_reports_position_and_indexing(make_app: MakeApp) -> None:
    """The status bar shows the 0-based frame k/last (as in exports), time/duration, play state,
    indexing and server."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        await pilot.press("full_stop")
        await pilot.pause(0.1)
        text = status_text(player)
        for part in ("frame 1/59", "0:00.1 / 0:06", "paused", "indexed 30/30", "connected"):
            assert part in text, part
        await pilot.press("space")
        await wait_for(pilot, lambda: "display" in status_text(player), timeout=3)


async def test_resize_redraws_the_frame_for_the_new_box(make_app: MakeApp) -> None:
    """After the terminal shrinks, the frame is decoded again at the smaller cell box."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        image: Callable[[], Any] = lambda: player.query_one("#video").children[1]  # noqa: E731
        wide = image().styles.width.value
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: image().styles.width.value < wide)
        assert shown(player) == 0


class FakeEmbeddedServer:
    """Stands in for :class:`clipvi_tui.server.embedded.EmbeddedServer` (no process is started)."""

    instances: ClassVar[list[FakeEmbeddedServer]] = []

    def __init__(self, model_dir: Any, clip_version: str, log_path: Any = None) -> None:
        self.api_url = "http://127.0.0.1:1"
        self.started_on: threading.Thread | None = None
        self.stopped = False
        self.answering = threading.Event()
        self.dies = False
        self.process = type("P", (), {"returncode": 3})()
        FakeEmbeddedServer.instances.append(self)

    def start(self) -> None:
        self.started_on = threading.current_thread()

    @property
    def running(self) -> bool:
        return not self.dies

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> type[FakeEmbeddedServer]:
    """Replace the embedded server and the readiness probe with fakes."""
    import clipvi_tui.server.embedded
    from clipvi_tui.player import services

    FakeEmbeddedServer.instances = []
    monkeypatch.setattr(clipvi_tui.server.embedded, "EmbeddedServer", FakeEmbeddedServer)
    monkeypatch.setattr(
        services,
        "server_answers",
        lambda url, timeout=1.0: FakeEmbeddedServer.instances[-1].answering.is_set(),
    )
    return FakeEmbeddedServer


async def test_embedded_server_starts_on_the_main_thread(
    make_app: MakeApp, fake_server: type[FakeEmbeddedServer]
) -> None:
    """Given no server running, the app starts a local one from the main thread (so it dies with
    the app), says "starting local server" until it answers, then indexes; quitting stops it."""
    app = make_app(start_server=True)
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        await wait_for(pilot, lambda: player.background.server_state == "starting")
        assert "starting local server" in status_text(player)
        await wait_for(pilot, lambda: player.stats.paints >= 1)
        await pilot.press("space")  # playback does not wait for the server
        await wait_for(pilot, lambda: player.frame >= 3)
        server = fake_server.instances[-1]
        assert server.started_on is threading.main_thread()
        server.answering.set()
        await wait_for(pilot, lambda: player.background.index_state == "done")
        assert player.background.server_state == "connected"
        await pilot.press("q")
    assert server.stopped


async def test_embedded_server_that_dies_is_reported(
    make_app: MakeApp, fake_server: type[FakeEmbeddedServer]
) -> None:
    """If the local server exits during start-up, the status bar and a notification say so and
    the player keeps working without scores."""
    app = make_app(start_server=True)
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        await wait_for(pilot, lambda: player.background.server_state == "starting")
        fake_server.instances[-1].dies = True
        await wait_for(pilot, lambda: player.background.server_state == "failed")
        assert "server failed" in status_text(player)
        assert any("exited with code 3" in n.message for n in app._notifications)
        await pilot.press("right")
        assert player.frame == 2 and app.is_running


async def test_live_indexing_updates_rebuild_at_most_once_a_second(make_app: MakeApp) -> None:
    """Embeddings streaming in (live updates) cost at most one chart rebuild a second, while a
    user change (a prompt toggled) is drawn within the short limit."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        player = await ready(pilot)
        chart = player.query_one("#chart", SimilarityChart)
        await chart_drawn(pilot, chart)
        await pilot.pause(1.1)  # start clear of the last build's rate limit
        builds = chart.build_count
        series = chart._series
        for _ in range(20):  # 20 updates over ≈1 s
            chart.set_data(player.board.times, series, player.config.info.duration, live=True)
            await pilot.pause(0.05)
        assert chart.build_count - builds <= 2, "live updates are coalesced"
        await chart_drawn(pilot, chart)
        builds = chart.build_count
        await pilot.press("2")
        await pilot.pause(0.35)
        assert chart.build_count > builds and chart._key == chart.current_key()
