"""Every kind of file a user may point the app at: clear errors, silence, stable cache keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from clipvi_tui.core.video import VideoError, VideoReader, fingerprint, probe
from tests.support.videos import (
    broken_videos,
    read_code,
    vfr_times,
    write_coded_video,
    write_h264_video,
    write_odd_size_video,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return broken_videos(tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("missing", "video not found"),
        ("directory", "directory"),
        ("not a video", "Invalid data"),
        ("zero bytes", "empty (0 bytes)"),
        ("truncated header", "cannot open video"),
        ("truncated data", "no readable frames"),
        ("garbage after the header", "could be decoded"),
        ("no video stream", "no video stream"),
    ],
)
def test_a_bad_file_is_one_clear_line(broken: dict[str, Path], case: str, says: str) -> None:
    """Each unusable file raises VideoError with one line that names the file and the reason."""
    with pytest.raises(VideoError) as caught:
        probe(broken[case])
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert str(broken[case]) in message


def test_ffmpeg_and_opencv_print_nothing(broken: dict[str, Path]) -> None:
    """Opening every bad file (and reading a good one) writes nothing to stderr at all.

    Runs in a child process so that output written by C libraries straight to file descriptor 2
    is caught too, not only Python's sys.stderr.
    """
    code = (
        "import sys, json\n"
        "from clipvi_tui.core.video import probe, VideoReader, VideoError\n"
        "out = {}\n"
        "for name, path in json.loads(sys.argv[1]).items():\n"
        "    try:\n"
        "        info = probe(path)\n"
        "        with VideoReader(path, info) as r:\n"
        "            r.read(info.frame_count - 1)\n"
        "        out[name] = 'ok'\n"
        "    except VideoError as exc:\n"
        "        out[name] = 'error'\n"
        "print(json.dumps(out))\n"
    )
    files = {name: str(path) for name, path in broken.items()}
    files["good"] = str(broken["missing"].parent / "good.mp4")
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(files)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    outcome = json.loads(result.stdout)
    assert outcome.pop("good") == "ok"
    assert set(outcome.values()) == {"error"}
    assert result.stderr == "", f"libraries wrote to stderr:\n{result.stderr}"


def test_a_truncated_file_plays_up_to_where_it_ends(tmp_path: Path) -> None:
    """Half a web-style (index first) file: the frames that are there are all readable."""
    whole = write_h264_video(tmp_path / "whole.mp4", frames=300, faststart=True)
    half = tmp_path / "half.mp4"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    info = probe(half)
    assert 0 < info.frame_count < 300
    with VideoReader(half, info) as reader:
        codes = [read_code(reader.read(k)) for k in range(info.frame_count)]
    assert codes == sorted(codes) and codes[0] == 0


def test_odd_sizes_read_and_shrink(tmp_path: Path) -> None:
    """321×241 MJPEG: read at full size, right frames."""
    video = write_odd_size_video(tmp_path / "odd.avi")
    info = probe(video)
    assert (info.width, info.height) == (321, 241)
    with VideoReader(video, info) as reader:
        assert [read_code(reader.read(k)) for k in (9, 0, 4)] == [9, 0, 4]
        assert reader.read(3).shape == (241, 321, 3)


def opencv_meta(path: Path) -> str:
    """The metadata string the OpenCV-based probe hashed into the fingerprint."""
    cap = cv2.VideoCapture(str(path))
    try:
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    return f"{count};{fps:.6f};{width}x{height}"


def test_fingerprint_metadata_is_what_opencv_reported(tmp_path: Path) -> None:
    """Caches written by the OpenCV-based version stay reachable: same metadata, same key."""
    videos = [
        write_coded_video(tmp_path / "a.mp4", frames=30, fps=29.97),
        write_coded_video(tmp_path / "b.avi", frames=30, fps=25.0, codec="MJPG"),
        write_coded_video(tmp_path / "c.avi", frames=30, fps=25.0, codec="XVID"),
        write_h264_video(tmp_path / "d.mp4", frames=60, fps=30.0),
        write_h264_video(tmp_path / "e.mp4", frames=60, times=vfr_times([(30, 30), (10, 30)])),
        write_h264_video(tmp_path / "f.mp4", frames=30, rotation=90),
        REPO / "data" / "sample.mp4",
    ]
    for video in videos:
        info = probe(video)
        assert info.fingerprint_meta == opencv_meta(video), f"metadata differs for {video.name}"
        assert info.fingerprint == fingerprint(video, info)


def test_the_sample_videos_cache_key_never_changes() -> None:
    """data/sample.mp4's key as the OpenCV-based version computed it: its cache stays valid."""
    assert probe(REPO / "data" / "sample.mp4").fingerprint == "00878059fdb552cba0015cd079dc77f9"
