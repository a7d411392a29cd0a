"""Search: non-maximum-suppressed moments within and across videos; "more like this frame"."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clipvi_tui.core.search import (
    VideoCurve,
    VideoVectors,
    frame_vector,
    moments,
    search,
    search_vectors,
)


def curve(values: np.ndarray, video: str = "v.mp4", fps: float = 5.0) -> VideoCurve:
    n = len(values)
    return VideoCurve(video, np.arange(n) * 2, np.arange(n) / fps, np.asarray(values, float))


def bumps(n: int, centres: list[int], heights: list[float], width: int = 5) -> np.ndarray:
    v = np.full(n, 0.1)
    for c, h in zip(centres, heights, strict=True):
        v[max(0, c - width) : c + width + 1] = h
        v[c] = h + 0.01  # its best frame
    return v


def test_k_hits_are_k_different_moments_best_first() -> None:
    v = bumps(200, [30, 100, 160], [0.6, 0.8, 0.7])
    hits = moments(curve(v), 3)
    assert [h.position for h in hits] == [100, 160, 30]
    assert [h.frame for h in hits] == [200, 320, 60]
    assert hits[0].start_s == pytest.approx(95 / 5) and hits[0].end_s == pytest.approx(105 / 5)
    assert hits[0].score == pytest.approx(0.81)


def test_a_plateau_is_one_moment_not_k_neighbouring_frames() -> None:
    v = bumps(200, [100], [0.8], width=20)
    hits = moments(curve(v), 5)
    assert hits[0].position == 100
    for h in hits[1:]:
        assert not 80 <= h.position <= 120, "a second hit inside the plateau"


@given(arrays(np.float64, st.integers(0, 120), elements=st.floats(-1, 1)), st.integers(1, 8))
def test_moments_never_overlap_and_come_best_first(values: np.ndarray, k: int) -> None:
    values = values.copy()
    values[::7] = np.nan
    hits = moments(curve(values), k)
    assert len(hits) <= k
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    spans = sorted((h.start_s, h.end_s) for h in hits)
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert e1 < s2
    for h in hits:
        assert h.start_s <= h.time_s <= h.end_s and np.isfinite(h.score)


def test_missing_frames_are_never_hits_and_end_a_moment() -> None:
    v = bumps(60, [30], [0.8])
    v[27] = np.nan
    hits = moments(curve(v), 1)
    assert hits[0].start_s == pytest.approx(28 / 5)
    assert moments(curve(np.full(10, np.nan)), 3) == []
    assert moments(curve(np.zeros(0)), 3) == []
    assert moments(curve(np.array([0.3])), 3)[0].score == pytest.approx(0.3)


def test_search_ranks_moments_across_videos() -> None:
    a = curve(bumps(100, [20, 70], [0.5, 0.9]), "a.mp4")
    b = curve(bumps(100, [50], [0.7]), "b.mp4")
    hits = search([a, b], 3)
    assert [(h.video, h.position) for h in hits] == [("a.mp4", 70), ("b.mp4", 50), ("a.mp4", 20)]
    assert search([a, b], 1)[0].video == "a.mp4"
    assert search([], 3) == []
    d = hits[0].to_dict()
    assert list(d) == ["video", "frame", "time_s", "start_s", "end_s", "score"]


def test_search_vectors_and_more_like_this_frame() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 16))
    vectors = np.repeat(base, 40, axis=0) + rng.normal(0, 0.05, (40, 16))
    target = rng.normal(size=16)
    vectors[25:30] = target + rng.normal(0, 0.05, (5, 16))
    vectors[3] = np.nan
    times = np.arange(40) / 5
    video = VideoVectors("v.mp4", np.arange(40), times, vectors)
    pos, vec = frame_vector(vectors, times, 5.4)  # nearest embedded frame: 27 at 5.4 s
    assert pos == 27
    hits = search_vectors([video], vec, 2)
    assert hits[0].position == pos and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].start_s >= 25 / 5 and hits[0].end_s <= 29 / 5
    assert frame_vector(vectors, times, 0.6)[0] == 2, "frame 3 is not embedded"
    with pytest.raises(ValueError, match="no frame"):
        frame_vector(np.full((3, 4), np.nan), np.arange(3), 1.0)
