"""The headless core and CLI against the real Roboflow Inference server (session fixture).

Every test starts commands the way a user does (``python -m clipvi_tui ...``) or calls the core
with the real inference-sdk client; requests are counted on the wire by a proxy.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import BadRequest, InferenceEmbeddingClient, ServerError
from clipvi_tui.core.video import VideoReader
from tests.conftest import InferenceServer
from tests.support.proxy import CountingProxy
from tests.support.videos import write_colour_video

pytestmark = pytest.mark.integration

RED, GREEN, BLUE = (0, 0, 255), (0, 255, 0), (255, 0, 0)  # BGR, as OpenCV stores them


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``clipvi-tui`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "clipvi_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def export_csv(video: Path, url: str, version: str, *prompts: str, extra: tuple[str, ...] = ()):
    args = [
        "export",
        str(video),
        "--api-url",
        url,
        "--clip-version",
        version,
        "--server",
        "external",
        *extra,
    ]
    for p in prompts:
        args += ["-p", p]
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout))), out


@pytest.fixture
def colour_video(tmp_path: Path) -> Path:
    """3 s at 10 fps: red, then blue, then green, 10 frames each."""
    return write_colour_video(tmp_path / "colours.mp4", [RED, BLUE, GREEN], frames_each=10)


def test_export_matches_the_servers_own_compare(
    inference_server: InferenceServer, coded_video: Path
) -> None:
    """Exported cosine == the server's /clip/compare for the same frame and prompt (±1e-4)."""
    rows, _ = export_csv(
        coded_video,
        inference_server.url,
        "tiny-test",
        "red",
        "a blue sky",
        extra=("--sample-fps", "all"),
    )
    assert len(rows) == 60
    from inference_sdk import InferenceConfiguration, InferenceHTTPClient

    # The SDK as anyone would use it, sending the key as a header (as our client does).
    sdk = InferenceHTTPClient(api_url=inference_server.url)
    sdk.configure(InferenceConfiguration(api_key_transport="header"))
    client = InferenceEmbeddingClient(inference_server.url, clip_version="tiny-test")
    worst = 0.0
    with VideoReader(coded_video) as reader:
        for k in (0, 17, 42, 59):
            frame = client.prepare(reader.read(k))
            result = sdk.clip_compare(
                subject=frame, prompt=["red", "a blue sky"], clip_version="tiny-test"
            )
            for prompt, expected in zip(["red", "a blue sky"], result["similarity"], strict=True):
                worst = max(worst, abs(float(rows[k][prompt]) - expected))
    assert worst < 1e-4, f"export differs from /clip/compare by {worst}"


def test_colours_are_not_swapped(inference_server: InferenceServer, colour_video: Path) -> None:
    """Red frames score higher for "red" than "blue", blue frames the other way round.

    The tiny model reads colour straight from the RGB channels, so sending BGR as RGB (the
    original app's bug) flips both comparisons and fails this test.
    """
    rows, _ = export_csv(
        colour_video,
        inference_server.url,
        "tiny-test",
        "red",
        "blue",
        "green",
        extra=("--sample-fps", "all"),
    )
    score = {p: np.array([float(r[p]) for r in rows]) for p in ("red", "blue", "green")}
    red, blue, green = slice(0, 10), slice(10, 20), slice(20, 30)
    assert (score["red"][red] > score["blue"][red] + 0.2).all(), "red frames look blue"
    assert (score["blue"][blue] > score["red"][blue] + 0.2).all(), "blue frames look red"
    assert (score["green"][green] > score["red"][green]).all()


def test_second_export_sends_no_image_requests(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """A second look is served from the cache: zero image requests on the wire."""
    with CountingProxy(inference_server.url) as proxy:
        first, _ = export_csv(coded_video, proxy.url, "tiny-test", "red")
        sent_first = proxy.images_sent()
        texts_first = proxy.counts["/clip/embed_text"]
        second, _ = export_csv(coded_video, proxy.url, "tiny-test", "red")
        assert sent_first >= 30 / 8, "first export should have embedded the frames"
        assert proxy.images_sent() == sent_first, "second export sent images again"
        assert proxy.counts["/clip/embed_text"] == texts_first, "cached prompt embedded again"
    assert first == second

    # A renamed copy in another folder is the same content: still no image requests.
    copy = tmp_path / "elsewhere" / "holiday.mp4"
    copy.parent.mkdir()
    shutil.copyfile(coded_video, copy)
    with CountingProxy(inference_server.url) as proxy:
        third, _ = export_csv(copy, proxy.url, "tiny-test", "red")
        assert proxy.images_sent() == 0, "renamed copy missed the cache"
    assert [r["red"] for r in third] == [r["red"] for r in first]


def test_cached_export_works_with_the_server_down(
    inference_server: InferenceServer, coded_video: Path
) -> None:
    """Nothing is asked of the server when everything is cached, so it need not be running."""
    first, _ = export_csv(coded_video, inference_server.url, "tiny-test", "red")
    with CountingProxy(inference_server.url) as proxy:
        dead = proxy.url
    again, _ = export_csv(coded_video, dead, "tiny-test", "red")
    assert again == first


def test_overlong_prompt_is_a_clear_error(
    inference_server: InferenceServer, coded_video: Path
) -> None:
    long_prompt = " ".join(["a very red circle on a blue square"] * 12)
    out = cli(
        "export", str(coded_video), *inference_server.cli_args(), "-p", "red", "-p", long_prompt
    )
    assert out.returncode == 2, out.stderr
    assert "77 tokens" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_sdk_errors_map_to_clear_exceptions(inference_server: InferenceServer) -> None:
    client = InferenceEmbeddingClient(inference_server.url, clip_version="tiny-test", retries=0)
    with pytest.raises(BadRequest):
        client.embed_texts(["word " * 100])
    # The server caps images per request (CLIP_MAX_BATCH_SIZE=8) with a 500; the client must
    # never trip it however many frames it is handed at once.
    frames = [np.full((64, 64, 3), i * 10, np.uint8) for i in range(19)]
    assert client.embed_images(frames).shape == (19, 512)
    raw = InferenceEmbeddingClient(
        inference_server.url, clip_version="tiny-test", retries=0, max_batch=9
    )
    with pytest.raises(ServerError):
        raw.embed_images(frames[:9])


def test_index_then_json_export(inference_server: InferenceServer, coded_video: Path) -> None:
    out = cli("index", str(coded_video), *inference_server.cli_args(), "-p", "red")
    assert out.returncode == 0, out.stderr
    assert "30/30 frames" in out.stderr
    out = cli(
        "export",
        str(coded_video),
        *inference_server.cli_args(),
        "-p",
        "red",
        "-p",
        "blue",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["model"] == "clip/tiny-test" and doc["sample_fps"] == 5.0
    assert doc["frames"] == list(range(0, 60, 2))
    assert doc["time_s"][:3] == [0.0, 0.2, 0.4]
    assert set(doc["scores"]) == {"red", "blue"} and len(doc["scores"]["red"]) == 30


def test_cache_vectors_equal_server_embeddings(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """What the cache holds for frame k is the server's embedding of frame k."""
    from clipvi_tui.core.indexer import Indexer

    client = InferenceEmbeddingClient(inference_server.url, clip_version="tiny-test")
    with EmbeddingCache(tmp_path / "c") as cache:
        indexer = Indexer(coded_video, client, cache, sample_fps=5.0)
        assert indexer.run().state == "done"
        idx, vecs = cache.frame_matrix(indexer.fingerprint, client.model_id, client.preprocess_tag)
    with VideoReader(coded_video) as reader:
        direct = client.embed_images([reader.read(int(k)) for k in idx[:8]])
    direct /= np.linalg.norm(direct, axis=1, keepdims=True)
    assert np.abs(direct - vecs[:8]).max() < 2e-3
