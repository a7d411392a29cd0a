"""Scores: cosine matrix, table assembly with gaps, smoothing, segments, thresholds."""

from __future__ import annotations

import numpy as np

from clipvi_tui.core.similarity import (
    cosine_matrix,
    midpoint_threshold,
    moving_average,
    score_table,
    segments,
    softmax,
)


def test_cosine_matrix_matches_definition() -> None:
    rng = np.random.default_rng(0)
    f, t = rng.standard_normal((7, 16)), rng.standard_normal((3, 16))
    got = cosine_matrix(f, t)
    for i in range(7):
        for j in range(3):
            want = f[i] @ t[j] / np.linalg.norm(f[i]) / np.linalg.norm(t[j])
            assert abs(got[i, j] - want) < 1e-6


def test_missing_frames_are_nan_not_zero() -> None:
    f = np.ones((3, 4), np.float32)
    f[1] = np.nan
    got = cosine_matrix(f, np.ones((2, 4)))
    assert np.isnan(got[1]).all() and np.allclose(got[[0, 2]], 1.0)


def test_score_table_places_cached_rows_and_ignores_unsampled() -> None:
    sampled = np.array([0, 2, 4, 6])
    cached_idx = np.array([1, 2, 6, 9])
    vecs = np.eye(4, dtype=np.float32)
    table = score_table(
        sampled, cached_idx, vecs, ["a"], np.array([[0, 1, 0, 0]], np.float32), sampled / 10.0
    )
    col = table.column("a")
    assert np.isnan(col[0]) and col[1] == 1.0 and np.isnan(col[2]) and col[3] == 0.0
    assert table.done == 2


def test_moving_average_respects_gaps() -> None:
    v = np.array([1, 1, 1, np.nan, 3, 3, 3], np.float32)
    out = moving_average(v, 3)
    assert np.isnan(out[3]) and out[1] == 1 and out[5] == 3 and out[2] == 1 and out[4] == 3


def test_segments_and_threshold() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert segments(mask) == [(1, 2), (5, 5), (7, 9)]
    curve = np.array([0.1, 0.12, 0.11, 0.3, 0.31, np.nan, 0.29])
    t = midpoint_threshold(curve)
    assert 0.12 < t < 0.29


def test_softmax_rows_sum_to_one() -> None:
    s = softmax(np.array([[0.2, 0.25], [np.nan, np.nan]]))
    assert abs(s[0].sum() - 1) < 1e-6 and s[0, 1] > s[0, 0]
