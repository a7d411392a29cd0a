"""Pilot tests of the library screen: every key and click, opening a video and coming back.

The library is a folder of three generated videos (one of them in a sub-folder) and one file
with a video name that is not a video. The fake client embeds mean colours (see appfakes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.library import find_videos
from clipvi_tui.core.video import fingerprint, probe, sample_indices
from clipvi_tui.screens.dialogs import HelpScreen
from clipvi_tui.screens.library import LibraryScreen
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.library import VideoTable
from tests.app.appfakes import ColourClient, wait_for, write_video

SIZE = (120, 40)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "clips"
    (root / "more").mkdir(parents=True)
    write_video(root / "a.avi", frames=30)
    write_video(root / "more" / "b.avi", frames=60)
    write_video(root / "c.avi", frames=40)
    (root / "d.mp4").write_bytes(b"not a video")
    return root


def library_app(settings: Settings, folder: Path, client: ColourClient) -> ClipviApp:
    return ClipviApp(
        settings,
        graphics="unicode",
        client_factory=lambda url: client,
        start_server=False,
        library=find_videos([folder]),
        library_root=folder,
    )


async def scanned(pilot) -> LibraryScreen:
    screen = pilot.app.library
    await wait_for(pilot, lambda: not screen.state.scanning and all(screen.state.entries))
    return screen


def table(screen: LibraryScreen) -> VideoTable:
    return screen.query_one("#videos", VideoTable)


def cells(screen: LibraryScreen) -> list[list[str]]:
    t = table(screen)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def test_lists_every_video_with_duration_and_indexed_state(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """Given a folder, the list shows each video (relative name, m:ss, indexed state); a video
    indexed before shows ✓, an unreadable file ✗."""
    a = folder / "a.avi"
    info = probe(a)
    with EmbeddingCache(settings.cache_dir) as cache:
        frames = sample_indices(info, settings.sample_fps)
        cache.put_frames(
            fingerprint(a, info),
            client.model_id,
            client.preprocess_tag,
            list(frames),
            np.ones((len(frames), 4)),
        )
    async with library_app(settings, folder, client).run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        rows = cells(screen)
        assert [r[0] for r in rows] == ["a.avi", "c.avi", "d.mp4", "more/b.avi"]
        assert rows[0][1:] == ["0:03", "✓ 15/15"]
        assert rows[1][1:] == ["0:04", "– 0/20"]
        assert rows[2][2] == "✗ unreadable"
        assert rows[3][1:] == ["0:06", "– 0/30"]
        status = str(screen.query_one("#library-status").render())
        assert "4 videos: 1 indexed, 2 not indexed, 1 unreadable" in status
        assert "clipvi-tui index" in status
        assert client.image_calls == 0, "listing a library embeds nothing"


async def test_enter_opens_the_player_and_esc_comes_back_with_the_new_state(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """Down, enter: the second video plays; it gets indexed there; esc returns to the list,
    which now shows it as indexed."""
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        player = app.player
        assert player is not None and player.config.video == folder / "c.avi"
        await wait_for(pilot, lambda: player.background.index_state == "done")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.player is None
        await scanned(pilot)
        assert cells(screen)[1][2] == "✓ 20/20"
        assert table(screen).cursor_row == 1, "back where the user was"


async def test_o_opens_too_and_unreadable_videos_do_not(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """``o`` opens the video under the cursor; on the unreadable file it only explains."""
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        await pilot.press("down", "down", "o")
        await pilot.pause(0.1)
        assert app.screen is screen, "an unreadable file does not open"
        assert any("Cannot play d.mp4" in n.message for n in app._notifications)
        await pilot.press("up", "up", "o")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        assert app.player.config.video == folder / "a.avi"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_clicking_a_row_selects_it_and_clicking_it_again_opens_it(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        # Row 3 (more/b.avi): the table's border and header take the first two lines.
        await pilot.click("#videos", offset=(5, 5))
        assert table(screen).cursor_row == 3
        assert app.screen is screen
        await pilot.click("#videos", offset=(5, 5))
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        assert app.player.config.video == folder / "more" / "b.avi"


async def test_r_reads_the_state_again(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """Vectors that appear in the cache (another process indexed) show after ``r``."""
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        assert cells(screen)[1][2] == "– 0/20"
        c = folder / "c.avi"
        info = probe(c)
        with screen.gate.cache() as cache:
            cache.put_frames(
                fingerprint(c, info),
                client.model_id,
                client.preprocess_tag,
                [0, 2],
                np.ones((2, 4)),
            )
        await pilot.press("r")
        await scanned(pilot)
        assert cells(screen)[1][2] == "2/20  10%"


async def test_help_lists_the_library_keys_and_q_quits(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        await scanned(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(f"{k} {d}" for k, d in app.screen.rows)
        assert (
            "Open" in text and "Search" in text and "Refresh" in text and "Back to library" in text
        )
        await pilot.press("escape")
        assert isinstance(app.screen, LibraryScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_esc_in_a_player_opened_alone_does_nothing(make_app) -> None:
    """Opened on one video, there is no library to go back to: esc is not offered."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("escape")
        assert app.screen is app.player
        assert app.check_action("back_to_library", ()) is False


async def test_a_moment_opens_at_its_time_with_its_prompt(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """Opening a video at 4.2 s with a prompt starts the player there with that prompt first."""
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        screen.open_video(3, seconds=4.2, prompt="blue")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        player = app.player
        # The player seeks to its start frame when it mounts, a moment after it is pushed.
        await wait_for(pilot, lambda: player.frame == 42)
        assert [e.text for e in player.board.prompts] == ["blue", "red", "green"]


# -- the search box ----------------------------------------------------------------------------


def index_videos(settings: Settings, client: ColourClient, *videos: Path) -> None:
    """Index with the real pipeline and the colour client, as `clipvi-tui index` would."""
    from clipvi_tui.core.indexer import Indexer

    with EmbeddingCache(settings.cache_dir) as cache:
        for v in videos:
            assert Indexer(v, client, cache, sample_fps=settings.sample_fps).run().state == "done"


def hit_rows(screen: LibraryScreen) -> list[list[str]]:
    t = screen.query_one("#hits")
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def searched(pilot, screen: LibraryScreen) -> None:
    await wait_for(pilot, lambda: not screen.state.searching and screen.state.hits_query)


async def test_slash_searches_the_indexed_videos_and_lists_moments(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    """/ red enter: the best "red" moments of the two indexed videos, best first, each in the
    red third of its video; the hits take the focus; the status line counts them."""
    index_videos(settings, client, folder / "a.avi", folder / "more" / "b.avi")
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        await pilot.press("slash")
        assert screen.query_one("#library-search").has_focus
        await pilot.press(*"red", "enter")
        await searched(pilot, screen)
        hits = screen.state.hits
        assert hits, "red frames exist in both indexed videos"
        assert {h.video for h in hits} <= {str(folder / "a.avi"), str(folder / "more" / "b.avi")}
        durations = {str(folder / "a.avi"): 3.0, str(folder / "more" / "b.avi"): 6.0}
        assert all(h.time_s < durations[h.video] / 3 for h in hits[:2]), "red is the first third"
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        rows = hit_rows(screen)
        assert rows[0][0] == "1" and rows[0][1] in ("a.avi", "more/b.avi")
        assert screen.query_one("#hits").has_focus
        status = str(screen.query_one("#library-status").render())
        assert f"{len(hits)} moments for “red” in 2 indexed videos" in status


async def test_enter_on_a_hit_plays_that_moment_and_esc_keeps_the_hits(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    index_videos(settings, client, folder / "more" / "b.avi")
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        await pilot.press("slash", *"a green thing", "enter")
        await searched(pilot, screen)
        best = screen.state.hits[0]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        player = app.player
        assert player.config.video == folder / "more" / "b.avi"
        assert player.frame == player.config.info.frame_at(best.time_s)
        assert [e.text for e in player.board.prompts] == ["a green thing", "red", "green"], (
            "the query comes first, before the configured prompts"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.state.hits[0] == best and hit_rows(screen), "the hits are still listed"


async def test_o_opens_the_hit_under_the_cursor_and_clicks_open_hits(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    index_videos(settings, client, folder / "a.avi")
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        screen.search("blue")
        await searched(pilot, screen)
        assert screen.state.hits
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))
        assert app.player.board.prompts[0].text == "blue"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # A click moves the hit cursor; a click on the selected row opens it.
        await pilot.click("#hits", offset=(5, 2))
        await pilot.click("#hits", offset=(5, 2))
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen))


async def test_esc_leaves_the_search_box_for_the_list(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        await pilot.press("f")
        assert screen.query_one("#library-search").has_focus
        await pilot.press("escape")
        assert table(screen).has_focus
        assert app.screen is screen


async def test_nothing_indexed_says_so_and_a_server_failure_is_explained(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        screen.search("red")
        await searched(pilot, screen)
        assert screen.state.hits == []
        assert "no video is indexed yet" in str(screen.query_one("#library-status").render())
        client.down.set()
        screen.search("a purple thing")
        await wait_for(pilot, lambda: not screen.state.searching)
        messages = [n.message for n in app._notifications]
        assert any("Cannot search “a purple thing”: cannot reach" in m for m in messages)


async def test_softmax_without_other_prompts_falls_back_to_raw_and_says_so(
    settings: Settings, folder: Path, client: ColourClient
) -> None:
    index_videos(settings, client, folder / "a.avi")
    settings.view, settings.prompts = "softmax", []
    app = library_app(settings, folder, client)
    async with app.run_test(size=SIZE) as pilot:
        screen = await scanned(pilot)
        screen.search("red")
        await searched(pilot, screen)
        assert screen.state.hits
        assert any("ranked by raw cosine" in n.message for n in app._notifications)
