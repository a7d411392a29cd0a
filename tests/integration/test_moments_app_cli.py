"""The app and ``export --segments`` find the same segments, through the real Inference server.

The app runs with the real inference-sdk client against the demo model on a fresh synthetic
video; once everything is embedded its segment list is compared with the CLI's JSON export for
the same settings — the defaults, and a view and smoothing chosen with the app's keys.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from clipvi_tui.synthetic.world import render_video
from tests.app.appfakes import ready
from tests.conftest import InferenceServer
from tests.support.moments_truth import absent_prompts, present_prompts

pytestmark = pytest.mark.integration


def cli_segments(
    server: InferenceServer, video: Path, prompts: list[str], cache: Path, *extra: str
) -> dict[str, object]:
    """``export --segments --format json`` as a user runs it."""
    assert server.demo_version
    cmd = [sys.executable, "-m", "clipvi_tui", "export", str(video), "--segments"]
    cmd += ["--format", "json", "--api-url", server.url, "--clip-version", server.demo_version]
    cmd += ["--server", "external", "--cache-dir", str(cache), *extra]
    for p in prompts:
        cmd += ["-p", p]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    doc: dict[str, object] = json.loads(out.stdout)
    return doc


def assert_same(app: list[dict[str, object]], cli: list[dict[str, object]]) -> None:
    """Same segments: prompts and frames exactly, times and scores to 1e-4 (relative, for the
    zscore view's large values): the app keeps vectors normalised then rounded to float16, the
    CLI reads float16 vectors back and normalises them, so cosines differ by ≈1e-6."""
    assert len(app) == len(cli), (app, cli)
    for a, c in zip(app, cli, strict=True):
        assert list(a) == list(c)
        for key, value in a.items():
            if isinstance(value, float):
                assert value == pytest.approx(c[key], rel=1e-4, abs=1e-4), (key, a, c)
            else:
                assert value == c[key], (key, a, c)


async def test_app_and_export_give_identical_segments(
    inference_server: InferenceServer, tmp_path: Path
) -> None:
    video = tmp_path / "fresh.mp4"
    truth = render_video(video, seed=22, seconds=20.0, fps=10.0)
    prompts = [*present_prompts(truth), *absent_prompts(truth)[:3]]
    cache = tmp_path / "cache"
    assert inference_server.demo_version
    settings = Settings(
        api_url=inference_server.url,
        clip_version=inference_server.demo_version,
        server="external",
        cache_dir=cache,
        prompts=prompts,
    )
    app = ClipviApp(settings, video, graphics="unicode", start_server=False)
    async with app.run_test(size=(140, 45)) as pilot:
        player = await ready(pilot)
        found = [s.to_dict() for s in player.moments.segments(player.board)]
        assert found, "the app found segments"
        # Same defaults on both sides.
        cli = cli_segments(inference_server, video, prompts, cache)
        assert_same(found, cli["segments"])  # type: ignore[arg-type]
        thresholds = {
            s.entry.text: s.found.threshold.value for s in player.moments.shown(player.board)
        }
        assert {p: t is None for p, t in thresholds.items()} == {
            p: t is None
            for p, t in cli["thresholds"].items()  # type: ignore[attr-defined]
        }
        # The zscore view (v three times) and 0.5 s of smoothing (] twice), chosen with keys.
        await pilot.press("v", "v", "v", "right_square_bracket", "right_square_bracket")
        assert (player.moments.view, player.moments.smooth_s) == ("zscore", 0.5)
        found = [s.to_dict() for s in player.moments.segments(player.board)]
        cli = cli_segments(
            inference_server, video, prompts, cache, "--view", "zscore", "--smooth", "0.5"
        )
        assert cli["view"] == "zscore" and cli["smooth_s"] == 0.5
        assert_same(found, cli["segments"])  # type: ignore[arg-type]
        player.shutdown()
