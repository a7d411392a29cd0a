"""The command line against several real Inference servers, and the vector hand-off.

Commands run as a user runs them (``python -m clipvi_tui ...``); requests are counted on the
wire by a proxy in front of each server.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.integration.conftest import Fleet
from tests.support.proxy import CountingProxy
from tests.support.videos import write_coded_video

pytestmark = pytest.mark.integration


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clipvi_tui", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def urls(*servers: str) -> list[str]:
    out: list[str] = []
    for s in servers:
        out += ["--api-url", s]
    return out


COMMON = ["--clip-version", "tiny-test", "--server", "external", "--sample-fps", "all"]
PROMPTS = ["-p", "red", "-p", "a blue sky"]


def rows(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_coded_video(tmp_path_factory.mktemp("v") / "coded.mp4", frames=80)


@pytest.fixture(scope="module")
def one_server_csv(
    fleet: Fleet, video: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, str]]:
    """The scores one server gives, exported into a cache of their own."""
    cache = tmp_path_factory.mktemp("one-cache")
    out = cli(
        "export", str(video), *urls(fleet.main.url), *COMMON, *PROMPTS, "--cache-dir", str(cache)
    )
    assert out.returncode == 0, out.stderr
    return rows(out.stdout)


def test_export_over_two_servers_equals_one_server_and_uses_both(
    fleet: Fleet, video: Path, one_server_csv, tmp_path: Path
) -> None:
    with CountingProxy(fleet.main.url) as a, CountingProxy(fleet.second.url) as b:
        out = cli("export", str(video), *urls(a.url, b.url), *COMMON, *PROMPTS)
    assert out.returncode == 0, out.stderr
    assert rows(out.stdout) == one_server_csv, "two servers must export what one exports"
    assert len(a.image_batches) > 1 and len(b.image_batches) > 1, (a.counts, b.counts)
    assert "servers" not in out.stdout


def test_comma_separated_environment_variable_names_both(fleet: Fleet, tmp_path: Path) -> None:
    clip = write_coded_video(tmp_path / "c.mp4", frames=48)
    with CountingProxy(fleet.main.url) as a, CountingProxy(fleet.second.url) as b:
        out = cli(
            "index",
            str(clip),
            "--clip-version",
            "tiny-test",
            "--server",
            "external",
            "--sample-fps",
            "all",
            env={"CLIPVI_API_URL": f"{a.url},{b.url}", "CLIPVI_MAX_IN_FLIGHT": "1"},
        )
    assert out.returncode == 0, out.stderr
    assert "48/48 frames cached" in out.stderr
    assert a.image_batches and b.image_batches
    assert "servers 2/2" in out.stderr, "the progress line shows the servers up"


def test_a_capped_server_is_told_once_and_no_frame_is_lost(
    fleet: Fleet, video: Path, one_server_csv
) -> None:
    with CountingProxy(fleet.capped.url) as proxy:
        out = cli("export", str(video), *urls(proxy.url), *COMMON, *PROMPTS, "--batch-size", "8")
    assert out.returncode == 0, out.stderr
    assert rows(out.stdout) == one_server_csv
    assert out.stderr.count("HTTP 500") == 1, out.stderr
    assert "4 per request" in out.stderr
    assert max(proxy.image_batches[-5:]) == 4


def test_servers_that_disagree_are_refused_naming_both(fleet: Fleet, video: Path) -> None:
    out = cli(
        "index",
        str(video),
        *urls(fleet.second.url, fleet.capped.url),
        "--clip-version",
        "imposter",
        "--server",
        "external",
    )
    assert out.returncode == 3, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert fleet.second.url in line and fleet.capped.url in line and "clip/imposter" in line
    assert "Traceback" not in out.stderr


def test_vectors_round_trip_through_a_fresh_cache_gives_identical_scores(
    fleet: Fleet, video: Path, one_server_csv, tmp_path: Path
) -> None:
    vectors = tmp_path / "vectors.npz"
    out = cli(
        "export",
        str(video),
        *urls(fleet.main.url),
        *COMMON,
        "--vectors",
        str(vectors),
        "--cache-dir",
        str(tmp_path / "first"),
    )
    assert out.returncode == 0, out.stderr
    assert "wrote 80 vectors (clip/tiny-test, 512-dim)" in out.stderr
    assert out.stdout == "", "vectors only: no scores without -p"
    with np.load(vectors) as npz:
        assert npz["vectors"].shape == (80, 512) and npz["frames"].tolist() == list(range(80))
        assert np.allclose(npz["times"], np.arange(80) / 10.0)
        assert str(npz["model_id"]) == "clip/tiny-test" and str(npz["preprocess"]) == "area224"

    fresh = ["--cache-dir", str(tmp_path / "fresh")]
    out = cli("import-vectors", str(video), str(vectors), *urls(fleet.main.url), *COMMON, *fresh)
    assert out.returncode == 0, out.stderr
    assert "imported 80 vectors" in out.stderr and "80/80 sampled frames" in out.stderr

    with CountingProxy(fleet.main.url) as proxy:
        out = cli("export", str(video), *urls(proxy.url), *COMMON, *PROMPTS, *fresh)
    assert out.returncode == 0, out.stderr
    assert proxy.images_sent() == 0, "every frame came from the imported file"
    assert rows(out.stdout) == one_server_csv, "identical scores after the round trip"


def test_import_refuses_another_model_and_another_dimension(
    fleet: Fleet, video: Path, tmp_path: Path
) -> None:
    vectors = tmp_path / "v.npz"
    np.savez(vectors, vectors=np.ones((3, 128)), frames=np.arange(3), model_id="clip/tiny-test")
    out = cli("import-vectors", str(video), str(vectors), *urls(fleet.main.url), *COMMON)
    assert out.returncode == 2
    assert "128-dim vectors, but clip/tiny-test makes 512-dim" in out.stderr, out.stderr

    out = cli(
        "import-vectors",
        str(video),
        str(vectors),
        *urls(fleet.main.url),
        "--clip-version",
        "shapes-demo",
        "--server",
        "external",
    )
    assert out.returncode == 2
    assert "holds clip/tiny-test vectors, but this run uses clip/shapes-demo" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_folder_indexes_over_two_servers_and_a_rerun_embeds_nothing(
    fleet: Fleet, tmp_path: Path
) -> None:
    shelf = tmp_path / "shelf"
    (shelf / "sub").mkdir(parents=True)
    for i, where in enumerate(["a.mp4", "b.mp4", "sub/c.mp4"]):
        write_coded_video(shelf / where, frames=20 + 10 * i)
    args = ["index", str(shelf), *urls(fleet.main.url, fleet.second.url), *COMMON, "--jobs", "2"]
    out = cli(*args)
    assert out.returncode == 0, out.stderr
    for name, n in (("a.mp4", 20), ("b.mp4", 30), ("c.mp4", 40)):
        assert f"{name}: {n}/{n} frames cached ({n} embedded now" in out.stderr, out.stderr
    assert "3 videos: 3 indexed (90 frames embedded now" in out.stderr
    assert "servers 2/2" in out.stderr

    with CountingProxy(fleet.main.url) as a:
        again = cli("index", str(shelf / "*.mp4"), str(shelf / "sub"), *urls(a.url), *COMMON)
    assert again.returncode == 0, again.stderr
    assert "(0 frames embedded now" in again.stderr
    assert a.images_sent() == 0, "resumable: nothing left to embed"


def test_a_dead_server_in_the_list_is_set_aside_and_the_live_one_does_the_work(
    fleet: Fleet, tmp_path: Path
) -> None:
    from clipvi_tui.server.serve import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    clip = write_coded_video(tmp_path / "c.mp4", frames=40)
    out = cli("index", str(clip), *urls(dead, fleet.main.url), *COMMON)
    assert out.returncode == 0, out.stderr
    assert "40/40 frames cached" in out.stderr
    assert f"{dead} set aside" in out.stderr and "1 other server(s) carry on" in out.stderr
    assert "servers 1/2" in out.stderr


def test_an_interrupted_library_run_resumes_with_what_is_missing(
    fleet: Fleet, tmp_path: Path
) -> None:
    """Ctrl-C stops the run (exit 130, what was embedded is kept); the rerun embeds the rest."""
    import signal
    import time

    shelf = tmp_path / "shelf"
    shelf.mkdir()
    for name, n in (("a.mp4", 240), ("b.mp4", 250), ("c.mp4", 260)):
        write_coded_video(shelf / name, frames=n)  # different lengths: different contents
    args = [
        sys.executable,
        "-m",
        "clipvi_tui",
        "index",
        str(shelf),
        *urls(fleet.main.url),
        *COMMON,
        "--batch-size",
        "2",
        "--max-in-flight",
        "1",
    ]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    line = ""
    while "frames" not in line or " 0/750" in line:
        line = proc.stderr.readline()
        assert line and time.monotonic() < deadline, "no progress line before the deadline"
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, rest
    cached = int(rest.split("interrupted: ")[1].split("/")[0])
    assert 0 < cached < 750, rest

    again = cli("index", str(shelf), *urls(fleet.main.url), *COMMON)
    assert again.returncode == 0, again.stderr
    assert f"({750 - cached} frames embedded now" in again.stderr, again.stderr
