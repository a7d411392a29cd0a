"""Video access: metadata, frame accuracy, sampling and fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from clipvi_tui.core.video import (
    VideoError,
    VideoInfo,
    VideoReader,
    downscale,
    fingerprint,
    parse_sample_fps,
    probe,
    sample_indices,
)
from tests.support.videos import read_code, write_coded_video


@pytest.mark.parametrize(
    ("codec", "suffix"), [("mp4v", ".mp4"), ("MJPG", ".avi"), ("XVID", ".avi")]
)
def test_random_reads_return_the_exact_frame(tmp_path: Path, codec: str, suffix: str) -> None:
    """Given a video whose frames carry their index, every read(k) returns frame k."""
    video = write_coded_video(tmp_path / f"v{suffix}", frames=90, fps=25.0, codec=codec)
    order = [0, 89, 45, 46, 47, 10, 60, 59, 88, 1, 30, 31, 75]
    with VideoReader(video) as reader:
        got = [read_code(reader.read(k)) for k in order]
    assert got == order, "decoder returned a different frame than asked for"


def test_metadata(coded_video: Path) -> None:
    info = probe(coded_video)
    assert (info.frame_count, info.width, info.height) == (60, 320, 240)
    assert info.fps == pytest.approx(10.0)
    assert info.duration == pytest.approx(6.0)
    assert info.frame_at(2.05) == 20 and info.frame_at(99) == 59 and info.frame_at(-1) == 0


def test_sequential_iteration_matches_codes(coded_video: Path) -> None:
    with VideoReader(coded_video) as reader:
        codes = [read_code(f) for _, f in reader.iter_frames(range(0, 60, 3))]
    assert codes == list(range(0, 60, 3))


def test_out_of_range_and_missing(tmp_path: Path, coded_video: Path) -> None:
    with VideoReader(coded_video) as reader, pytest.raises(VideoError, match="out of range"):
        reader.read(60)
    with pytest.raises(VideoError, match="not found"):
        probe(tmp_path / "nope.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError):
        probe(junk)


@pytest.mark.parametrize(
    ("fps", "rate", "expected"),
    [
        (10.0, 5.0, list(range(0, 60, 2))),
        (10.0, None, list(range(60))),
        (10.0, 30.0, list(range(60))),
        (10.0, 1.0, list(range(0, 60, 10))),
    ],
)
def test_sampling(fps: float, rate: float | None, expected: list[int]) -> None:
    info = VideoInfo(Path("x"), fps=fps, frame_count=60, width=1, height=1)
    assert sample_indices(info, rate).tolist() == expected


def test_sampling_keeps_time_spacing_at_ntsc_rates() -> None:
    """29.97 fps sampled at 5 fps: samples stay ≈0.2 s apart, never drifting."""
    info = VideoInfo(Path("x"), fps=29.97, frame_count=3000, width=1, height=1)
    idx = sample_indices(info, 5.0)
    times = idx / info.fps
    assert np.all(np.abs(np.diff(times) - 0.2) < 0.034)
    assert abs(times[-1] - (len(idx) - 1) * 0.2) < 0.034


@pytest.mark.parametrize(("text", "value"), [("all", None), ("5", 5.0), ("2.5", 2.5), (None, None)])
def test_parse_sample_fps(text: str | None, value: float | None) -> None:
    assert parse_sample_fps(text) == value


@pytest.mark.parametrize("bad", ["fast", "-1", "nan"])
def test_parse_sample_fps_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_sample_fps(bad)


def test_fingerprint_follows_content_not_name(tmp_path: Path, coded_video: Path) -> None:
    """A renamed copy keeps its key; an edited file gets a new one."""
    copy = tmp_path / "elsewhere" / "renamed.mp4"
    copy.parent.mkdir()
    shutil.copyfile(coded_video, copy)
    assert fingerprint(copy, probe(copy)) == fingerprint(coded_video, probe(coded_video))
    edited = write_coded_video(tmp_path / "edited.mp4", frames=59, fps=10.0)
    assert fingerprint(edited, probe(edited)) != fingerprint(coded_video, probe(coded_video))
    flipped = tmp_path / "flipped.mp4"
    data = bytearray(coded_video.read_bytes())
    data[len(data) // 2 if len(data) < 2 << 20 else 100] ^= 0xFF
    flipped.write_bytes(bytes(data))
    assert fingerprint(flipped) != fingerprint(coded_video)


def test_downscale_keeps_aspect_and_never_upscales() -> None:
    big = np.zeros((1080, 1920, 3), np.uint8)
    assert downscale(big, 224).shape == (224, 398, 3)
    small = np.zeros((100, 150, 3), np.uint8)
    assert downscale(small, 224) is small
