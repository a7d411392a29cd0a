"""Faults with real processes and real signals, against the real Inference server.

The server is killed with SIGKILL mid-run; ``index`` itself is SIGKILLed half way and run again;
two ``index`` processes share one video and cache; Ctrl-C (SIGINT) arrives while requests hang;
the disk under the cache fills up (a real 1 MiB tmpfs in a private mount namespace); bytes inside
``data.mdb`` are overwritten. Each test checks what the user sees (exit code, the one line), what
went over the wire (frames counted by a forwarding server) and what the cache holds afterwards.

No test asserts a duration: "promptly" is proven by finishing long before the request timeout
(300 s) that a hung request would otherwise take.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.cache_format import VECTOR_DTYPE
from clipvi_tui.core.validation import PROBE_TEXT
from clipvi_tui.core.video import fingerprint, probe
from tests.conftest import InferenceServer
from tests.support.badserver import BadServer, Reply, Request, answer_with, hang_after
from tests.support.faults import (
    PREPROCESS_TAG,
    cli_options,
    clipvi,
    forward,
    frames_cached,
    images_on_the_wire,
    small_disk_script,
    start,
    stderr_lines,
    unshare_prefix,
    wait_until,
)
from tests.support.legacy_cache import damage_values
from tests.support.server import start_test_server
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration

HUNG = "300"  # --timeout for runs whose requests hang: far longer than any test may take


def options(url: str, cache: Path, *more: str) -> list[str]:
    """Point a command at ``url`` (tiny model), a cache, every frame sampled."""
    return cli_options(url, cache, "--sample-fps", "all", *more)


def rerun_counting(video: Path, cache: Path, upstream: str) -> tuple[str, int]:
    """Run ``index`` again through a forwarding server; (its stderr, frames sent on the wire)."""
    with BadServer(forward, upstream=upstream) as counting:
        again = subprocess.run(
            clipvi("index", str(video), *options(counting.url, cache)),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 0, again.stderr
    return again.stderr, images_on_the_wire(counting)


def export_rows(video: Path, url: str, cache: Path) -> list[dict[str, str]]:
    """Export scores for "red" and "blue" (the cache must already hold the frames)."""
    out = subprocess.run(
        clipvi("export", str(video), *options(url, cache), "-p", "red", "-p", "blue"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return list(csv.DictReader(io.StringIO(out.stdout)))


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 small frames: long enough to interrupt half way, quick to decode."""
    root = tmp_path_factory.mktemp("faults")
    return write_coded_video(root / "long.mp4", frames=300, fps=30.0, size=(160, 120))


@pytest.fixture(scope="module")
def clean_rows(
    inference_server: InferenceServer, long_video: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, str]]:
    """What an uninterrupted run exports (a fresh cache, the real server)."""
    cache = tmp_path_factory.mktemp("clean") / "cache"
    out = subprocess.run(
        clipvi("index", str(long_video), *options(inference_server.url, cache)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return export_rows(long_video, inference_server.url, cache)


@pytest.mark.slow
def test_server_sigkilled_during_index(
    inference_server: InferenceServer,
    long_video: Path,
    clean_rows: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    """Given a server SIGKILLed half way through ``index``: exit 3 at once, saying how far it got;
    a rerun (another server, same model) embeds only the missing frames; the result equals a
    clean run's."""
    (tmp_path / "server").mkdir()
    proc, url, _log = start_test_server(
        tmp_path / "server", inference_server.tiny_model_dir, "tiny-test"
    )
    cache = tmp_path / "cache"
    try:
        run = start("index", str(long_video), *options(url, cache, "--timeout", HUNG))
        wait_until(
            lambda: frames_cached(cache, long_video, "tiny-test") >= 60 or run.poll() is not None,
            120,
            "60 frames to be cached",
        )
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = run.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert run.returncode == 3, err
    [line] = stderr_lines(err)
    match = re.search(r"cannot reach the Inference server .* stopped at (\d+)/300 frames", line)
    assert match, line
    kept = frames_cached(cache, long_video, "tiny-test")
    assert kept == int(match.group(1)) and 60 <= kept < 300, (kept, line)

    _, sent = rerun_counting(long_video, cache, inference_server.url)
    assert sent == 300 - kept, "the rerun embedded cached frames"
    assert export_rows(long_video, inference_server.url, cache) == clean_rows


def test_index_sigkilled_half_way_then_rerun(
    inference_server: InferenceServer,
    long_video: Path,
    clean_rows: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    """Given ``index`` SIGKILLed half way: the cache opens fine, the rerun completes and only
    the missing frames go over the wire; the result equals a clean run's."""
    cache = tmp_path / "cache"
    run = start("index", str(long_video), *options(inference_server.url, cache))
    wait_until(
        lambda: frames_cached(cache, long_video, "tiny-test") >= 80 or run.poll() is not None,
        120,
        "80 frames to be cached",
    )
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    kept = frames_cached(cache, long_video, "tiny-test")  # the cache opens fine
    assert 80 <= kept < 300, f"{kept} frames: kill the run half way, not at the end"

    again, sent = rerun_counting(long_video, cache, inference_server.url)
    assert sent == 300 - kept, "the rerun embedded cached frames"
    assert f"300/300 frames cached ({300 - kept} embedded now" in again
    assert export_rows(long_video, inference_server.url, cache) == clean_rows


def test_two_index_processes_on_one_video_and_cache(
    inference_server: InferenceServer,
    long_video: Path,
    clean_rows: list[dict[str, str]],
    tmp_path: Path,
) -> None:
    """Both finish, and the cache they shared gives exactly a clean run's result."""
    cache = tmp_path / "cache"
    runs = [
        start("index", str(long_video), *options(inference_server.url, cache)) for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert "300/300 frames cached" in err
    assert frames_cached(cache, long_video, "tiny-test") == 300
    assert export_rows(long_video, inference_server.url, cache) == clean_rows


def answer_first_then_hang(answered: int) -> object:
    """Forward text and the first ``answered`` image requests; later image requests hang."""
    seen: list[int] = []

    def reply(req: Request, up: Reply | None) -> Reply:
        if req.path != "/clip/embed_image":
            assert up is not None
            return up
        seen.append(1)
        if len(seen) <= answered:
            assert up is not None
            return up
        return Reply(hang=True)

    return reply


def test_ctrl_c_with_image_requests_hanging(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """Given two answered batches and then a server that never answers: SIGINT ends ``index``
    with 130 long before the 300 s request timeout, and the answered frames are kept."""
    cache = tmp_path / "cache"
    with BadServer(answer_first_then_hang(2), upstream=inference_server.url) as server:
        run = start("index", str(coded_video), *options(server.url, cache, "--timeout", HUNG))
        wait_until(
            lambda: sum(r.path == "/clip/embed_image" for r in server.requests) >= 4,
            120,
            "hanging image requests",
        )
        wait_until(lambda: frames_cached(cache, coded_video, "tiny-test") >= 16, 60, "2 batches")
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=20)
    assert run.returncode == 130, err
    assert stderr_lines(err) == [
        "clipvi-tui: interrupted: 16/60 frames cached (a rerun embeds only the rest)"
    ], err
    assert frames_cached(cache, coded_video, "tiny-test") == 16


def hang_on_prompts(req: Request, up: Reply | None) -> Reply:
    """Forward everything but text requests for the user's prompts, which hang."""
    doc = req.json()
    if req.path == "/clip/embed_text" and doc.get("text") != [PROBE_TEXT]:
        return Reply(hang=True)
    assert up is not None
    return up


def test_ctrl_c_during_prompt_embedding(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """SIGINT while the prompt's request hangs: 130, "interrupted", no KeyboardInterrupt."""
    with BadServer(hang_on_prompts, upstream=inference_server.url) as server:
        run = start(
            "index",
            str(coded_video),
            *options(server.url, tmp_path / "cache", "--timeout", HUNG),
            "-p",
            "a dog",
        )
        wait_until(
            lambda: any(
                r.path == "/clip/embed_text" and r.json().get("text") == ["a dog"]
                for r in server.requests
            ),
            60,
            "the prompt's request",
        )
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=20)
    assert run.returncode == 130, err
    assert stderr_lines(err) == ["clipvi-tui: interrupted"], err
    assert "KeyboardInterrupt" not in err and "Traceback" not in err


def test_ctrl_c_while_nothing_answers(coded_video: Path, tmp_path: Path) -> None:
    """A server that accepts connections and never answers anything: SIGINT still means 130."""
    with BadServer(hang_after(0), info=Reply(hang=True)) as server:
        run = start("index", str(coded_video), *options(server.url, tmp_path / "c"))
        wait_until(lambda: bool(server.requests), 60, "the first request")
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=20)
    assert run.returncode == 130, err
    assert stderr_lines(err) == ["clipvi-tui: interrupted"], err


DISK_FULL_READER = """
import sys
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.video import fingerprint, probe
video = sys.argv[2]
with EmbeddingCache(sys.argv[1]) as cache:
    idx, vecs = cache.frame_matrix(fingerprint(video, probe(video)), "clip/tiny-test", "area224")
    print(f"readable={idx.size} dims={vecs.shape[1] if idx.size else 0}")
"""


def test_disk_full_under_the_cache(inference_server: InferenceServer, tmp_path: Path) -> None:
    """Given a 1 MiB disk under the cache (a real tmpfs): ``index`` stops at once with exit 4
    and one line naming the cache and "disk full"; what it stored before stays readable."""
    prefix = unshare_prefix()
    if prefix is None:
        pytest.fail("this machine allows no private mount namespace (unshare) for a tmpfs")
    video = write_coded_video(tmp_path / "many.mp4", frames=900, fps=30.0, size=(96, 72))
    disk = tmp_path / "disk"
    cache = disk / "cache"
    script = small_disk_script(
        disk,
        "1m",
        [
            clipvi("index", str(video), *options(inference_server.url, cache)),
            [sys.executable, "-c", DISK_FULL_READER, str(cache), str(video)],
        ],
    )
    out = subprocess.run(
        [*prefix, *script], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    codes = re.findall(r"rc=(\d+)", out.stdout)
    assert codes == ["4", "0"], out.stdout + out.stderr
    [line] = stderr_lines(out.stderr)
    match = re.search(
        rf"cache at {re.escape(str(cache))}: disk full .* stopped at (\d+)/900 frames", line
    )
    assert match, line
    readable = re.search(r"readable=(\d+) dims=(\d+)", out.stdout)
    assert readable, out.stdout
    assert int(readable.group(1)) == int(match.group(1)) > 0, "committed frames are readable"
    assert readable.group(2) == "512"


def test_bytes_overwritten_inside_data_mdb(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """Random bytes written into five stored vectors: the next run warns once, embeds exactly
    those five again (counted on the wire) and exports what a clean run exports."""
    cache = tmp_path / "cache"
    first = subprocess.run(
        clipvi("index", str(coded_video), *options(inference_server.url, cache)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    clean = export_rows(coded_video, inference_server.url, cache)
    fp = fingerprint(coded_video, probe(coded_video))
    with EmbeddingCache(cache) as c:
        _, vecs = c.frame_matrix(fp, "clip/tiny-test", PREPROCESS_TAG)
    payloads = [v.astype(VECTOR_DTYPE).tobytes() for v in vecs[[2, 9, 30, 31, 58]]]
    assert damage_values(cache / "data.mdb", payloads) == 5
    video_hash = hashlib.sha256(coded_video.read_bytes()).hexdigest()

    again, sent = rerun_counting(coded_video, cache, inference_server.url)
    assert sent == 5, "exactly the damaged frames are embedded again"
    warnings = [ln for ln in stderr_lines(again) if "warning" in ln]
    assert len(warnings) == 1 and "5 damaged entries" in warnings[0], again
    assert export_rows(coded_video, inference_server.url, cache) == clean
    assert hashlib.sha256(coded_video.read_bytes()).hexdigest() == video_hash


def test_corrupt_data_mdb_leaves_the_video_alone(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """A data.mdb that is not an LMDB file any more: exit 4 naming the file and the way out;
    the video's bytes are unchanged."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.mdb").write_bytes(os.urandom(64 * 1024))
    video_hash = hashlib.sha256(coded_video.read_bytes()).hexdigest()
    out = subprocess.run(
        clipvi("export", str(coded_video), *options(inference_server.url, cache), "-p", "red"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 4, out.stderr
    [line] = stderr_lines(out.stderr)
    assert f"the cache file {cache / 'data.mdb'} is damaged" in line and "delete the folder" in line
    assert hashlib.sha256(coded_video.read_bytes()).hexdigest() == video_hash


def test_cached_data_stays_readable_after_bad_servers(
    inference_server: InferenceServer, coded_video: Path, tmp_path: Path
) -> None:
    """A later run against servers that answer other dimensions, wrong counts or empty vectors
    (the old code stored them and broke every export) leaves the cache exactly as useful."""
    cache = tmp_path / "cache"
    first = export_rows(coded_video, inference_server.url, cache)
    other = write_coded_video(tmp_path / "other.mp4", frames=30, fps=10.0, size=(176, 144))
    for reply in (answer_with(7), answer_with(512, count_delta=-1), answer_with(0)):
        with BadServer(reply) as bad:
            for video in (coded_video, other):
                out = subprocess.run(
                    clipvi("export", str(video), *options(bad.url, cache), "-p", "a new prompt"),
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert out.returncode == 3, out.stderr
    assert export_rows(coded_video, inference_server.url, cache) == first
