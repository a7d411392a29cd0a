"""Score views: softmax, baseline probability, robust z-score, presence floors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clipvi_tui.core.views import (
    PROBABILITY_FLOOR,
    VIEW_LABELS,
    VIEWS,
    apply_view,
    baseline_probability,
    next_view,
    presence_floors,
    robust_center_scale,
    robust_zscore,
    softmax,
)

cosines = st.floats(-1.0, 1.0, allow_nan=False, width=32)


def score_matrices(min_rows: int = 0) -> st.SearchStrategy[np.ndarray]:
    """``[N, P]`` cosine matrices, some rows missing (NaN)."""
    shape = st.tuples(st.integers(min_rows, 30), st.integers(1, 6))
    return shape.flatmap(
        lambda s: st.tuples(
            arrays(np.float64, s, elements=cosines), arrays(bool, (s[0],), elements=st.booleans())
        ).map(lambda pair: np.where(pair[1][:, None], np.nan, pair[0]))
    )


@given(score_matrices())
def test_softmax_rows_sum_to_one_and_missing_rows_stay_missing(scores: np.ndarray) -> None:
    out = softmax(scores)
    missing = np.isnan(scores).any(axis=1)
    assert np.isnan(out[missing]).all()
    assert np.allclose(out[~missing].sum(axis=1), 1.0)
    assert ((out[~missing] >= 0) & (out[~missing] <= 1)).all()


def test_softmax_uses_clip_logit_scale() -> None:
    # A 0.01 cosine lead is e^1 at scale 100.
    out = softmax(np.array([[0.30, 0.29]]))
    assert out[0, 0] / out[0, 1] == pytest.approx(np.e)


def test_softmax_of_one_prompt_is_one_and_empty_is_empty() -> None:
    assert softmax(np.array([[0.2], [0.9]])).tolist() == [[1.0], [1.0]]
    assert softmax(np.zeros((0, 3))).shape == (0, 3)


@given(score_matrices(), st.integers(1, 3), st.data())
def test_baseline_probability_is_the_softmax_of_prompt_against_baselines(
    scores: np.ndarray, n_base: int, data: st.DataObject
) -> None:
    base = data.draw(arrays(np.float64, (len(scores), n_base), elements=cosines))
    out = baseline_probability(scores, base)
    assert out.shape == scores.shape
    for j in range(scores.shape[1]):
        full = softmax(np.column_stack([scores[:, j], base]))[:, 0]
        assert np.allclose(out[:, j], full, equal_nan=True, atol=1e-9)


def test_baseline_probability_never_overflows() -> None:
    out = baseline_probability(np.array([[1.0, -1.0]]), np.array([[-1.0]]))
    assert out[0, 0] == pytest.approx(1.0) and out[0, 1] == pytest.approx(0.5)
    assert np.isfinite(out).all()


def test_baseline_view_needs_baselines() -> None:
    with pytest.raises(ValueError, match="baseline prompt"):
        apply_view("baseline", np.zeros((3, 1)))
    with pytest.raises(ValueError, match="baseline prompt"):
        baseline_probability(np.zeros((3, 1)), np.zeros((3, 0)))


def test_zscore_is_robust_to_a_high_state() -> None:
    rng = np.random.default_rng(0)
    low = rng.normal(0.2, 0.01, 70)
    curve = np.concatenate([low, np.full(30, 0.5)])
    z = robust_zscore(curve)
    # The low state stays near 0 ± 1 and the high state far out: the high third of the video
    # does not drag the centre or the spread towards itself.
    assert abs(np.median(z[:70])) < 0.6 and z[70:].min() > 10


@given(
    arrays(np.float64, st.integers(1, 40), elements=cosines),
    st.floats(0.1, 10),
    st.floats(-1, 1),
)
def test_zscore_ignores_units(curve: np.ndarray, a: float, b: float) -> None:
    # Spreads below MIN_SCALE count as flat on purpose (float16 cosines resolve ≈5e-4), so the
    # property holds for curves whose MAD is 0 or clear of that limit in both units.
    mad = float(np.median(np.abs(curve - np.median(curve))))
    assume(np.ptp(curve) * min(a, 1.0) > 1e-3 and (mad == 0 or mad * min(a, 1.0) > 1e-5))
    assert np.allclose(robust_zscore(curve), robust_zscore(a * curve + b), atol=1e-6)


def test_zscore_edge_cases() -> None:
    assert robust_zscore(np.zeros(0)).shape == (0,)
    assert robust_zscore(np.array([0.3])).tolist() == [0.0]
    assert robust_zscore(np.full(5, 0.3)).tolist() == [0.0] * 5  # flat: 0, not NaN or inf
    z = robust_zscore(np.array([0.1, np.nan, 0.3, 0.2]))
    assert np.isnan(z[1]) and np.isfinite(z[[0, 2, 3]]).all()
    assert robust_center_scale(np.array([np.nan])) == (pytest.approx(np.nan, nan_ok=True), 1.0)
    # More than half equal: the MAD is 0, the mean absolute deviation takes over.
    c, k = robust_center_scale(np.array([0.2, 0.2, 0.2, 0.2, 0.9]))
    assert c == pytest.approx(0.2) and k > 0


def test_views_cycle_and_have_labels() -> None:
    seen = ["raw"]
    for _ in range(len(VIEWS) - 1):
        seen.append(next_view(seen[-1]))
    assert seen == list(VIEWS) and next_view(seen[-1]) == "raw"
    assert set(VIEW_LABELS) == set(VIEWS)
    with pytest.raises(ValueError, match="unknown view"):
        apply_view("cosine", np.zeros((1, 1)))


def test_presence_floors_per_view() -> None:
    scores = np.column_stack([np.linspace(0, 1, 11), np.linspace(-0.5, 2.0, 11)])
    assert presence_floors("raw", scores, 0.25).tolist() == [0.25, 0.25]
    assert presence_floors("softmax", scores, 0.25).tolist() == [PROBABILITY_FLOOR] * 2
    z_floor = presence_floors("zscore", scores, 0.25)
    # The same cosine, standardised like the curve itself.
    z = robust_zscore(scores)
    for j in range(2):
        assert np.interp(0.25, scores[:, j], z[:, j]) == pytest.approx(z_floor[j])
