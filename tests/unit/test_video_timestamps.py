"""Frame accuracy by timestamp on camera-like video, checked against PyAV's own decode.

The videos are written with PyAV's libx264 the way cameras and the web write them: B-frames
(decode order differs from presentation order), a 250-frame GOP, variable frame rate, rotation
metadata. The reference is PyAV decoding each file front to back: frame k is the k-th picture it
returns, its time is that picture's presentation timestamp. Every frame carries its own index as
a bit code, so a wrong frame cannot pass for the right one.
"""

from __future__ import annotations

import random
from pathlib import Path

import av
import numpy as np
import pytest

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.frameindex import FrameIndex
from clipvi_tui.core.video import (
    VideoInfo,
    VideoReader,
    fingerprint,
    probe,
    sample_indices,
    scaled_rgb,
)
from tests.support.videos import read_code, vfr_times, write_h264_video

VFR_SECTIONS = [(30.0, 60), (10.0, 20), (15.0, 30)]  # 2 s at 30, 2 s at 10, 2 s at 15 fps


def reference(path: Path) -> tuple[list[np.ndarray], list[float], list[int]]:
    """PyAV's sequential decode: pictures (BGR, as coded), times in seconds, rotations."""
    pictures, times, rotations = [], [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            pictures.append(frame.to_ndarray(format="bgr24"))
            times.append(float(frame.time))
            rotations.append(int(frame.rotation))
    return pictures, times, rotations


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 frames at 30 fps, GOP 250, 3 B-frames: keyframes at 0, 250 and 500 only."""
    folder = tmp_path_factory.mktemp("bframes")
    return write_h264_video(folder / "bframes.mp4", frames=600, fps=30.0, gop=250, bframes=3)


@pytest.fixture(scope="module")
def vfr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30, 10 and 15 fps sections (OpenCV calls this an 18.6 fps video)."""
    folder = tmp_path_factory.mktemp("vfr")
    times = vfr_times(VFR_SECTIONS)
    return write_h264_video(folder / "vfr.mp4", frames=len(times), times=times, gop=250)


def test_the_index_matches_pyavs_decode_order_and_times(bframes: Path, vfr: Path) -> None:
    """Given B-frame and VFR video, the index lists every frame PyAV decodes, at its pts."""
    for video in (bframes, vfr):
        _, times, _ = reference(video)
        info = probe(video)
        assert info.frame_count == len(times)
        assert np.abs(info.times - (np.asarray(times) - times[0])).max() < 1e-9
        assert info.index is not None
        assert info.index.keyframes.tolist() == [0, 250, 500][: 1 + (len(times) - 1) // 250]


def test_random_reads_return_pyavs_frame_k(bframes: Path) -> None:
    """Every read(k), in an order full of backward jumps and GOP crossings, is PyAV's frame k."""
    pictures, _, _ = reference(bframes)
    order = [0, 599, 250, 249, 251, 500, 499, 10, 11, 12, 300, 1, 0, 598]
    order += random.Random(7).sample(range(600), 40)
    with VideoReader(bframes) as reader:
        for k in order:
            got = reader.read(k)
            assert read_code(got) == k, f"read({k}) returned frame {read_code(got)}"
            assert np.array_equal(got, pictures[k]), f"read({k}) differs from PyAV's frame {k}"


def test_sparse_reads_skip_unreferenced_pictures_and_stay_exact(bframes: Path) -> None:
    """Sampling every 6th frame decodes fewer pictures than there are, and each is exact."""
    pictures, _, _ = reference(bframes)
    wanted = list(range(0, 600, 6))
    with VideoReader(bframes) as reader:
        got = list(reader.iter_frames(wanted))
        assert [k for k, _ in got] == wanted
        for k, frame in got:
            assert np.array_equal(frame, pictures[k]), f"sampled frame {k} is not PyAV's"
        assert reader.decoded < 600, "nothing was skipped: B-frames nobody needs were decoded"
        # Reading on after skipping must not hand out a wrong frame for one that was skipped.
        assert [read_code(reader.read(k)) for k in range(301, 320)] == list(range(301, 320))


def test_vfr_times_jumps_and_sampling_follow_timestamps(vfr: Path) -> None:
    """A 30/10/15 fps clip: times, frame_at and 5 fps sampling are by timestamp, not index/fps."""
    info = probe(vfr)
    assert info.fps == pytest.approx(110 / 5.9, rel=0.01), "nominal rate is the average"
    assert info.duration == pytest.approx(6.0, abs=1e-3)
    assert info.time_of(60) == pytest.approx(2.0, abs=1e-3)  # index/fps would say 3.2 s
    assert info.frame_at(2.05) == 60 and info.frame_at(2.1) == 61 and info.frame_at(4.0) == 80
    picks = sample_indices(info, 5.0)
    gaps = np.diff(info.times_of(picks))
    assert np.allclose(gaps, 0.2, atol=1 / 30 + 1e-6), f"samples not 0.2 s apart: {gaps}"
    with VideoReader(vfr, info) as reader:
        for k in (109, 60, 61, 0, 80, 79):
            assert read_code(reader.read(k)) == k


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_is_shown_upright(tmp_path: Path, rotation: int) -> None:
    """A phone-style rotation matrix: frames come out turned, the size is the turned size."""
    video = write_h264_video(tmp_path / "r.mp4", frames=40, size=(320, 240), rotation=rotation)
    pictures, _, rotations = reference(video)
    assert (-rotations[0]) % 360 == rotation, "the display matrix is what FFmpeg reads"
    info = probe(video)
    assert info.rotation == rotation
    assert (info.width, info.height) == ((240, 320) if rotation % 180 else (320, 240))
    with VideoReader(video, info) as reader:
        for k in (0, 17, 39, 5):
            got = reader.read(k)
            expected = np.rot90(pictures[k], k=-rotation // 90)
            assert np.array_equal(got, expected), f"frame {k} not turned {rotation}° clockwise"
            small = reader.read_as(k, scaled_rgb(info.width // 4, info.height // 4))
            assert small.shape == (info.height // 4, info.width // 4, 3)


def test_the_index_is_built_once_and_found_by_content(tmp_path: Path, bframes: Path) -> None:
    """A second probe with the cache does not demux; a renamed copy finds the same index."""
    with EmbeddingCache(tmp_path / "cache") as cache:
        first = probe(bframes, cache)
        copy = tmp_path / "renamed.mp4"
        copy.write_bytes(bframes.read_bytes())
        import clipvi_tui.core.videoinfo as video_module

        def no_scan(path: object) -> FrameIndex:
            raise AssertionError("the video was demuxed again although its index is cached")

        original = video_module.scan_video
        video_module.scan_video = no_scan  # type: ignore[assignment]
        try:
            again = probe(copy, cache)
        finally:
            video_module.scan_video = original
    assert again.fingerprint == first.fingerprint == fingerprint(bframes, first)
    assert np.array_equal(again.times, first.times)


def test_frame_index_round_trip(bframes: Path, vfr: Path) -> None:
    """The stored form keeps every timestamp and keyframe exactly."""
    for video in (bframes, vfr):
        index = probe(video).index
        assert index is not None
        back = FrameIndex.from_bytes(index.to_bytes())
        assert np.array_equal(back.pts, index.pts)
        assert np.array_equal(back.keyframes, index.keyframes)
        assert (back.time_base, back.end_pts, back.fingerprint_meta) == (
            index.time_base,
            index.end_pts,
            index.fingerprint_meta,
        )
    assert len(probe(bframes).index.to_bytes()) < 2000  # type: ignore[union-attr]


def test_hand_made_info_behaves_like_constant_rate() -> None:
    """A VideoInfo without an index (tests, synthetic data) times frames at index/fps."""
    info = VideoInfo(Path("x"), fps=10.0, frame_count=60, width=1, height=1)
    assert info.time_of(20) == 2.0 and info.frame_at(2.05) == 20 and info.duration == 6.0
    assert info.times_of(np.array([0, 59])).tolist() == [0.0, 5.9]
