"""The app meets the same bad answers as the command line: the same one-line messages, shown as
notifications, and the app keeps running (playback and keys work, nothing crashes).

The app runs with its real inference-sdk client; the servers are the real one (for a model it
does not have) or deliberately broken ones. The cache is seeded by a real ``index`` run, so the
model's dimension and probe are on record, as on a user's machine after the first run.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest

from clipvi_tui.app import ClipviApp
from clipvi_tui.config import Settings
from tests.app.appfakes import wait_for
from tests.conftest import InferenceServer
from tests.support.badserver import BadServer, Reply, ReplyFn, answer_with, hang_after
from tests.support.faults import cli_options, clipvi
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration


def status(code: int, message: str) -> ReplyFn:
    return lambda _req, _up: Reply.json({"message": message}, code)


CASES: list[tuple[str, ReplyFn | None, str, str]] = [
    ("401", status(401, "Unauthorized"), "tiny-test", "rejected the API key (HTTP 401"),
    ("404", status(404, "Not Found"), "tiny-test", "/clip/embed_text answered HTTP 404"),
    (
        "HTML page",
        lambda _r, _u: Reply(200, b"<html>hello</html>", "text/html"),
        "tiny-test",
        "HTTP 200 with an HTML page instead of JSON",
    ),
    (
        "another dimension",
        answer_with(7),
        "tiny-test",
        "gives 7-dim vectors for clip/tiny-test, but the cache holds 512-dim",
    ),
    ("hung", hang_after(0), "tiny-test", "did not answer within 1 s (timed out"),
    ("unknown model", None, "nope", "cannot load model clip/nope"),
]


@pytest.fixture(scope="module")
def seeded(inference_server: InferenceServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache that a real run has already filled (tiny-test: its dimension, probe, "red")."""
    root = tmp_path_factory.mktemp("app-errors")
    video = write_coded_video(root / "seeded.mp4", frames=40, fps=10.0)
    cache = root / "cache"
    out = subprocess.run(
        clipvi("index", str(video), *cli_options(inference_server.url, cache), "-p", "red"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return cache


@pytest.mark.parametrize(("name", "reply", "version", "message"), CASES, ids=[c[0] for c in CASES])
async def test_the_app_shows_the_clis_message_and_keeps_running(
    name: str,
    reply: ReplyFn | None,
    version: str,
    message: str,
    inference_server: InferenceServer,
    seeded: Path,
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seeded, cache)
    other = write_coded_video(tmp_path / "other.mp4", frames=40, fps=10.0, size=(176, 144))
    server = BadServer(reply, upstream=inference_server.url) if reply else None
    with server if server else contextlib.nullcontext():
        settings = Settings(
            api_url=server.url if server else inference_server.url,
            clip_version=version,
            cache_dir=cache,
            sample_fps=5.0,
            server="external",
            prompts=["red", "a new prompt"],
            timeout=1.0,
            autoplay=False,  # the test steps through frames with the keys
        )
        app = ClipviApp(settings, other, graphics="unicode", start_server=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(
                pilot,
                lambda: any(message in n.message for n in app._notifications),
                30,
            )
            player = app.player
            await pilot.press("right", "right")
            assert player.frame == 4, "keys still work"
            assert app.is_running
            texts = [n.message for n in app._notifications]
            assert all("\n" not in t and "Traceback" not in t for t in texts), texts
            for python_noise in ("KeyError", "TypeError", "request_data", "unexpected error"):
                assert not any(python_noise in t for t in texts), texts
