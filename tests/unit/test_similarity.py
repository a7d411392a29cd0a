"""Scores: cosine matrix and table assembly with gaps."""

from __future__ import annotations

import numpy as np

from clipvi_tui.core.similarity import cosine_matrix, score_table


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
