"""A library of 5 synthetic videos (ground truth), the demo model, two real Inference servers.

``index FOLDER`` over both servers, then ``search QUERY FOLDER`` and the library screen's search
box must find each query's moments in the videos that really show it, at frames where the truth
says it is visible.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import load_settings
from clipvi_tui.core.library import find_videos
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.synthetic.truth import GroundTruth
from clipvi_tui.synthetic.world import render_video
from tests.app.appfakes import wait_for
from tests.conftest import REPO
from tests.integration.conftest import Fleet

pytestmark = pytest.mark.integration

# One object each video is sure to show; the generator adds others at random.
LIBRARY = {
    "kitchen.mp4": ("red", "circle"),
    "garden.mp4": ("blue", "square"),
    "trip/day1.mp4": ("green", "triangle"),
    "trip/day2.mp4": ("yellow", "star"),
    "trip/night/late.mp4": ("purple", "circle"),
}
SEED = 7100
# The demo model's presence threshold, calibrated on training-side frames (models/shapes-demo).
THRESHOLD = json.loads((REPO / "models" / "shapes-demo" / "metrics.json").read_text())["threshold"][
    "cosine"
]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, GroundTruth]]:
    root = tmp_path_factory.mktemp("library")
    truths = {}
    for i, (name, pair) in enumerate(LIBRARY.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        truths[str(path)] = render_video(
            path, seed=SEED + i, seconds=10.0, fps=10.0, include=[pair]
        )
    return root, truths


def clipvi(fleet: Fleet, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert fleet.main.demo_version, "models/shapes-demo is missing"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "clipvi_tui",
            *args,
            "--api-url",
            fleet.main.url,
            "--api-url",
            fleet.second.url,
            "--clip-version",
            fleet.main.demo_version,
            "--server",
            "external",
            "--cache-dir",
            str(cache),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def indexed(fleet: Fleet, library: tuple[Path, dict[str, GroundTruth]], tmp_path_factory) -> Path:
    """The library indexed over both servers, two videos at a time; returns the cache."""
    cache = tmp_path_factory.mktemp("library-cache")
    root, _ = library
    out = clipvi(fleet, cache, "index", str(root), "--jobs", "2")
    assert "5 videos: 5 indexed (250 frames embedded now" in out.stderr, out.stderr
    for name in LIBRARY:
        assert f"{Path(name).name}: 50/50 frames cached" in out.stderr
    return cache


def visible_at(truth: GroundTruth, pair: tuple[str, str], frame: int) -> bool:
    return bool(truth.visible(*pair)[frame])


@pytest.mark.parametrize("pair", [("red", "circle"), ("blue", "square"), ("yellow", "star")])
def test_search_finds_each_query_where_the_truth_shows_it(
    fleet: Fleet, library, indexed: Path, pair: tuple[str, str]
) -> None:
    """Every confident hit (score over the model's calibrated presence threshold) is a frame of
    a video where the truth shows the object; the video sure to show it is among them. Hits
    below the threshold are the best of the rest: allowed anywhere, and ranked after."""
    root, truths = library
    query = f"a {pair[0]} {pair[1]}"
    out = clipvi(fleet, indexed, "search", query, str(root), "-k", "4", "--format", "json")
    per_video = [ln for ln in out.stderr.splitlines() if "embedded now" in ln]
    assert len(per_video) == 5 and all("(0 embedded now" in ln for ln in per_video), out.stderr
    hits = json.loads(out.stdout)["hits"]
    confident = [h for h in hits if h["score"] >= THRESHOLD]
    assert confident, f"{query}: no confident hit: {hits}"
    assert hits[: len(confident)] == confident, "confident hits come first"
    for h in confident:
        assert visible_at(truths[h["video"]], pair, h["frame"]), (
            f"{query}: hit at frame {h['frame']} of {h['video']}, where the truth shows none"
        )
    sure = str(root / next(n for n, p in LIBRARY.items() if p == pair))
    assert sure in {h["video"] for h in confident}, f"{query}: nothing from {sure}: {hits}"


async def test_the_library_screen_search_box_finds_the_same_moments(
    fleet: Fleet, library, indexed: Path
) -> None:
    """In the app: / a red circle enter lists the moments `search` gives; enter opens the best
    one in the player, at its time, with the query as its first prompt."""
    root, truths = library
    settings = load_settings(
        {
            "api_url": [fleet.main.url, fleet.second.url],
            "clip_version": fleet.main.demo_version,
            "cache_dir": indexed,
            "server": "external",
            "graphics": "unicode",
            "autoplay": False,  # the player must still be on the moment when it is checked
        },
        env={},
    )
    cli = clipvi(fleet, indexed, "search", "a red circle", str(root), "--format", "json")
    expected = [(h["video"], h["frame"]) for h in json.loads(cli.stdout)["hits"]]
    app = ClipviApp(
        settings, graphics="unicode", library=find_videos([root]), library_root=root.resolve()
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.library
        await wait_for(pilot, lambda: not screen.state.scanning and all(screen.state.entries), 30)
        assert all(e.state == "indexed" for e in screen.state.entries)
        await pilot.press("slash", *"a red circle", "enter")
        await wait_for(pilot, lambda: bool(screen.state.hits_query), 30)
        got = [(h.video, h.frame) for h in screen.state.hits]
        assert got == expected, "the screen and the command line rank alike"
        best = screen.state.hits[0]
        assert visible_at(truths[best.video], ("red", "circle"), best.frame)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlayerScreen), 30)
        player = app.player
        assert str(player.config.video) == best.video and player.frame == best.frame
        assert player.board.prompts[0].text == "a red circle"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, 10)
