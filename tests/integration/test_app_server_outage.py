"""The app with the real client and the real server, which goes away and comes back.

A proxy stands between the app and the real Inference server; while it is stopped the server is
unreachable for the app exactly as if it had died. Playback and seeking must go on, the status
bar must say what is happening, and indexing must finish once the server is back.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.server.serve import free_port
from clipvi_tui.widgets.status import StatusBar
from tests.app.appfakes import wait_for
from tests.conftest import InferenceServer
from tests.support.proxy import CountingProxy
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration


def status_text(player: PlayerScreen) -> str:
    """The status bar's line as plain text."""
    return str(player.query_one("#status", StatusBar).render())


async def test_server_down_then_back(inference_server: InferenceServer, tmp_path: Path) -> None:
    video = write_coded_video(tmp_path / "outage.mp4", frames=150, fps=15.0)
    port = free_port()
    settings = Settings(
        api_url=f"http://127.0.0.1:{port}",  # nothing listens here yet: the server is "down"
        clip_version=inference_server.clip_version,
        cache_dir=tmp_path / "cache",
        sample_fps=None,
        server="external",
        graphics="unicode",
        prompts=["red", "blue"],
        autoplay=False,  # the test starts playback itself
    )
    app = ClipviApp(settings, video, graphics="unicode", start_server=False)
    async with app.run_test(size=(120, 40)) as pilot:
        player = app.player
        await wait_for(
            pilot, lambda: player.background.server_state in ("unreachable", "retrying"), 30
        )
        assert "unreachable" in status_text(player) or "retrying" in status_text(player)

        # Playback and seeking go on without the server.
        await pilot.press("space")
        start = player.frame
        await pilot.pause(0.5)
        assert player.playing and player.frame > start, "playback stalled with the server down"
        await pilot.press("space", "home", "right")
        assert player.frame == 1 and not player.playing
        assert app.is_running

        # The server comes back on the same address: the app reconnects and finishes indexing.
        with CountingProxy(inference_server.url, port=port) as proxy:
            began = time.monotonic()
            await wait_for(pilot, lambda: player.background.index_state == "done", 60)
            assert player.background.server_state == "connected", status_text(player)
            assert proxy.images_sent() > 0
            assert player.background.index_done == 150
            assert time.monotonic() - began < 60
