"""The app over several real Inference servers: the status bar counts the servers up."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import load_settings
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.server.serve import free_port
from clipvi_tui.widgets.status import StatusBar
from tests.app.appfakes import wait_for
from tests.integration.conftest import Fleet
from tests.support.proxy import CountingProxy
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration


def status_text(player: PlayerScreen) -> str:
    return str(player.query_one("#status", StatusBar).render())


def app_for(urls: list[str], video: Path, cache: Path) -> ClipviApp:
    settings = load_settings(
        {
            "api_url": urls,
            "clip_version": "tiny-test",
            "cache_dir": cache,
            "sample_fps": "all",
            "server": "external",
            "prompts": ["red"],
        },
        env={},
    )
    return ClipviApp(settings, video, graphics="unicode", start_server=False)


async def test_two_servers_share_the_work_and_the_status_bar_says_2_of_2(
    fleet: Fleet, tmp_path: Path
) -> None:
    video = write_coded_video(tmp_path / "v.mp4", frames=90)
    with CountingProxy(fleet.main.url) as a, CountingProxy(fleet.second.url) as b:
        app = app_for([a.url, b.url], video, tmp_path / "cache")
        async with app.run_test(size=(120, 40)) as pilot:
            player = app.player
            await wait_for(pilot, lambda: player.background.index_state == "done", 60)
            await wait_for(pilot, lambda: "servers 2/2" in status_text(player), 5)
            assert player.board.embedded == 90
    assert len(a.image_batches) > 1 and len(b.image_batches) > 1


async def test_a_dead_server_shows_as_1_of_2_and_is_named_once(
    fleet: Fleet, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    video = write_coded_video(tmp_path / "v.mp4", frames=60)
    app = app_for([fleet.main.url, dead], video, tmp_path / "cache")
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        await wait_for(pilot, lambda: player.background.index_state == "done", 60)
        await wait_for(pilot, lambda: "servers 1/2" in status_text(player), 5)
        notes = [n.message for n in app._notifications if "set aside" in n.message]
        assert len(notes) == 1 and dead in notes[0]
