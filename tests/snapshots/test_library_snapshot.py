"""SVG snapshot of the library screen after a search (fixed videos, fake-client scores).

Regenerate after an intended change with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.indexer import Indexer
from tests.app.appfakes import ColourClient, wait_for, write_video

SnapCompare = Callable[..., bool]


def test_library_with_hits(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Three videos, two of them indexed, after searching "red".

    Reviewer should see: a search box on top with "red" typed in; on the left the "library —
    test/colour" list: "long.avi 0:06 ✓ 30/30", "mid.avi 0:04 – 0/20", "short.avi 0:03
    ✓ 15/15"; on the right "Moments for “red”" with ranked rows (rank, video, time, score
    ≈0.9+, the moment's span in dim), the first ones inside the red first third of their video;
    both boxes down to the status line "3 videos: 2 indexed, 1 not indexed │ 5 moments for “red”
    in 2 indexed videos │ `clipvi-tui index FOLDER` embeds the rest"; the footer with
    / Search, o Open, r Refresh, ? Help, q Quit.
    """
    root = tmp_path / "clips"
    root.mkdir()
    videos = [
        write_video(root / "long.avi", frames=60),
        write_video(root / "mid.avi", frames=40),
        write_video(root / "short.avi", frames=30),
    ]
    settings = Settings(cache_dir=tmp_path / "cache", sample_fps=5.0, server="external")
    client = ColourClient()
    with EmbeddingCache(settings.cache_dir) as cache:
        for v in (videos[0], videos[2]):
            Indexer(v, client, cache, sample_fps=5.0).run()
    app = ClipviApp(
        settings,
        graphics="unicode",
        client_factory=lambda url: client,
        start_server=False,
        library=videos,
    )

    async def search(pilot: Pilot[Any]) -> None:
        screen = pilot.app.library  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: not screen.state.scanning and all(screen.state.entries))
        await pilot.press("slash", *"red", "enter")
        await wait_for(pilot, lambda: bool(screen.state.hits_query))
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(120, 30), run_before=search)
