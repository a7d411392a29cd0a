"""Exports on real-world video, and exports that need no server at all.

Against the real Inference server: exported times are each frame's presentation timestamp
(variable frame rate, B-frames), and a fully cached export neither contacts nor starts a server.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from clipvi_tui.server.serve import free_port as free_loopback_port
from tests.conftest import InferenceServer
from tests.integration.test_core_against_server import export_csv
from tests.support.videos import vfr_times, write_h264_video

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def pts_seconds(video: Path) -> list[float]:
    """Each frame's presentation time as PyAV decodes the file, from the first frame."""
    with av.open(str(video)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    return [t - times[0] for t in times]


@pytest.mark.parametrize("sample", ["all", "5"])
def test_exported_time_is_each_frames_timestamp(
    inference_server: InferenceServer, tmp_path: Path, sample: str
) -> None:
    """A 30/10/15 fps clip with B-frames: time_s is the frame's pts (±1 ms), never k/fps."""
    times = vfr_times([(30.0, 45), (10.0, 15), (15.0, 15)])
    video = write_h264_video(tmp_path / "vfr.mp4", frames=len(times), times=times, bframes=3)
    rows, _ = export_csv(
        video,
        inference_server.url,
        inference_server.clip_version,
        "red",
        extra=("--sample-fps", sample, "--cache-dir", str(tmp_path / "cache")),
    )
    truth = pts_seconds(video)
    frames = [int(r["frame"]) for r in rows]
    if sample == "all":
        assert frames == list(range(len(truth)))
    worst = max(abs(float(r["time_s"]) - truth[int(r["frame"])]) for r in rows)
    assert worst < 1e-3, f"exported time_s is {worst:.3f} s off the frame's timestamp"
    if sample == "5":
        gaps = np.diff([float(r["time_s"]) for r in rows])
        assert np.allclose(gaps, 0.2, atol=1 / 30 + 1e-6), "5 fps samples are not 0.2 s apart"


# The child process records every outgoing connection and child process instead of making it.
CACHED_EXPORT = """
import json, socket, subprocess, sys
attempts, children = [], []
real_connect = socket.socket.connect
def connect(self, address):
    attempts.append(str(address))
    raise ConnectionRefusedError("no connections in this test")
socket.socket.connect = connect
socket.socket.connect_ex = lambda self, address: attempts.append(str(address)) or 111
real_popen_init = subprocess.Popen.__init__
def popen(self, *args, **kwargs):
    children.append(str(args[0] if args else kwargs.get("args")))
    raise OSError("no child processes in this test")
subprocess.Popen.__init__ = popen
from clipvi_tui.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "connections": attempts, "children": children,
                  "sdk_imported": "inference_sdk" in sys.modules}), file=sys.stderr)
"""


def test_a_cached_export_needs_no_server(inference_server: InferenceServer, tmp_path: Path) -> None:
    """Given everything cached, export with no server reachable succeeds, exactly as before,
    without a connection attempt, a child process (no auto-started server) or inference-sdk."""
    video = write_h264_video(tmp_path / "clip.mp4", frames=60, fps=30.0)
    cache = str(tmp_path / "cache")
    common = ["--clip-version", inference_server.clip_version, "--cache-dir", cache]
    first, _ = export_csv(
        video,
        inference_server.url,
        inference_server.clip_version,
        "red",
        "a cat",
        extra=("--cache-dir", cache),
    )
    nobody = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            CACHED_EXPORT,
            "export",
            str(video),
            "-p",
            "red",
            "-p",
            "a cat",
            "--api-url",
            nobody,
            "--server",
            "auto",
            *common,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    assert report["connections"] == [], "a fully cached export tried to reach a server"
    assert report["children"] == [], "a fully cached export started a process (a server?)"
    assert not report["sdk_imported"], "a fully cached export imported inference-sdk"
    assert list(csv.DictReader(io.StringIO(run.stdout))) == first


def test_a_cached_index_needs_no_server(inference_server: InferenceServer, tmp_path: Path) -> None:
    """``index`` of a fully cached video: done at once, no connection, no server started."""
    video = write_h264_video(tmp_path / "clip.mp4", frames=30, fps=30.0)
    cache = str(tmp_path / "cache")
    export_csv(
        video,
        inference_server.url,
        inference_server.clip_version,
        "red",
        extra=("--cache-dir", cache),
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            CACHED_EXPORT,
            "index",
            str(video),
            "-p",
            "red",
            "--api-url",
            f"http://127.0.0.1:{free_loopback_port()}",
            "--server",
            "auto",
            "--clip-version",
            inference_server.clip_version,
            "--cache-dir",
            cache,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "connections": [], "children": [], "sdk_imported": False}
    assert "everything was cached" in run.stderr


def run_offline(args: list[str], cwd: Path) -> tuple[dict, subprocess.CompletedProcess[str]]:
    """Run ``clipvi-tui ARGS`` where every connection and child process is refused and recorded."""
    run = subprocess.run(
        [sys.executable, "-c", CACHED_EXPORT, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )
    return json.loads(run.stderr.strip().splitlines()[-1]), run


def test_every_cached_command_needs_no_server(
    inference_server: InferenceServer, tmp_path: Path
) -> None:
    """With a library indexed and its prompts cached, each command that reads it — segments,
    spikes, vectors, search over one video and a folder, a folder's index — runs with nothing
    listening, without a connection attempt, a child process or inference-sdk, and answers as
    it does with the server."""
    library = tmp_path / "library"
    library.mkdir()
    a = write_h264_video(library / "a.mp4", frames=45, fps=15.0)
    write_h264_video(library / "b.mp4", frames=30, fps=15.0, size=(176, 144))
    cache = str(tmp_path / "cache")
    online = ["--api-url", inference_server.url, "--server", "external"]
    common = ["--clip-version", inference_server.clip_version, "--cache-dir", cache]
    nobody = ["--api-url", f"http://127.0.0.1:{free_loopback_port()}", "--server", "auto"]
    commands = [
        ["export", str(a), "-p", "red", "--segments", "--format", "json"],
        ["export", str(a), "-p", "red", "--spikes"],
        ["export", str(a), "--vectors", str(tmp_path / "a.npz")],
        ["search", "red", str(a), "--format", "json"],
        ["search", "red", str(library), "--format", "json"],
        ["index", str(library), "-p", "red"],
    ]
    with_server = []
    for args in commands:  # first with the server: this fills the cache
        run = subprocess.run(
            [sys.executable, "-m", "clipvi_tui", *args, *online, *common],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        with_server.append(run.stdout)
    for args, answer in zip(commands, with_server, strict=True):
        report, run = run_offline([*args, *nobody, *common], REPO)
        what = " ".join(args[:1] + args[2:4])
        assert report["code"] == 0, f"{what}: {run.stderr}"
        assert report["connections"] == [], f"{what} tried to reach a server"
        assert report["children"] == [], f"{what} started a process (a server?)"
        assert not report["sdk_imported"], f"{what} imported inference-sdk"
        assert run.stdout == answer, f"{what} answered otherwise without the server"
