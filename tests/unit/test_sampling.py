"""Sampling by time: the same frames as before on constant-rate video, even spacing on VFR."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clipvi_tui.core.frameindex import FrameIndex
from clipvi_tui.core.video import VideoInfo, sample_indices


def sampled_before(n: int, fps: float, rate: float) -> np.ndarray:
    """What the OpenCV-based version sampled (its cache holds vectors for these frames)."""
    if rate >= fps:
        return np.arange(n)
    picks = np.round(np.arange(0, n, fps / rate)).astype(np.int64)
    return np.unique(picks[picks < n])


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 20_000),
    fps=st.sampled_from([10.0, 12.5, 23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0]),
    rate=st.floats(0.2, 40.0),
)
def test_constant_rate_picks_what_earlier_versions_picked(n: int, fps: float, rate: float) -> None:
    info = VideoInfo(Path("x"), fps=fps, frame_count=n, width=1, height=1)
    assert np.array_equal(sample_indices(info, rate), sampled_before(n, fps, rate))


def vfr_info(gaps: list[float]) -> VideoInfo:
    """A VideoInfo whose frames are ``gaps`` seconds apart (1/90000 s time base)."""
    pts = np.concatenate([[0], np.cumsum(np.round(np.asarray(gaps) * 90_000))]).astype(np.int64)
    index = FrameIndex(
        pts=pts,
        keyframes=np.array([0]),
        time_base=Fraction(1, 90_000),
        end_pts=int(pts[-1] + round(gaps[-1] * 90_000)),
        rotation=0,
        coded_width=1,
        coded_height=1,
        avg_fps=len(pts) / ((pts[-1] + gaps[-1] * 90_000) / 90_000),
        codec="h264",
        fingerprint_meta="",
    )
    return VideoInfo(Path("x"), index.avg_fps, len(pts), 1, 1, index=index)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(
        st.sampled_from([1 / 60, 1 / 30, 1 / 15, 1 / 10, 0.25]), min_size=2, max_size=400
    ),
    rate=st.sampled_from([1.0, 2.0, 5.0]),
)
def test_variable_rate_samples_are_nearest_in_time(gaps: list[float], rate: float) -> None:
    """Each pick is the frame nearest to one of t = 0, 1/rate, …; picks ascend, never repeat."""
    info = vfr_info(gaps)
    picks = sample_indices(info, rate)
    assert np.all(np.diff(picks) > 0) and picks[0] == 0 and picks[-1] < info.frame_count
    if rate >= info.fps:
        return
    wanted = np.arange(0.0, info.duration, 1 / rate)
    picked = info.times[picks]
    for t in wanted[wanted <= info.times[-1]]:
        best = np.abs(info.times - t).min()
        assert np.abs(picked - t).min() <= best + 1e-9, f"no pick is nearest to t={t}"
