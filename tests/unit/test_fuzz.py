"""Property tests (hypothesis) for the pure parts: scores, every view of them and the chart's
decimation, stored vectors, response validation and config parsing (smoothing, segments and the
laws of each view have their own property tests in test_moments.py and test_views.py).

Each property is something a user relies on without thinking about it: a missing frame is never
a score, a score is a cosine, a damaged byte is never read back as a vector, and no config file
or server answer, however odd, gets past the one error path.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from clipvi_tui.config import FIELDS, ConfigError, load_settings, read_config
from clipvi_tui.core.cache_format import decode_vector, encode_vector
from clipvi_tui.core.failures import InvalidResponse
from clipvi_tui.core.similarity import cosine_matrix, score_table
from clipvi_tui.core.validation import check_vectors, embeddings_from_response
from clipvi_tui.core.views import VIEWS, apply_view
from clipvi_tui.widgets.chart_math import decimate_minmax, value_limits

# No example database: nothing is written into the working tree, and every run explores anew.
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
maybe_nan = st.one_of(finite, st.just(float("nan")))


def matrices(rows: st.SearchStrategy[int], dim: int, elements: st.SearchStrategy[float]) -> Any:
    return rows.flatmap(lambda n: hnp.arrays(np.float32, (n, dim), elements=elements))


# -- scores -----------------------------------------------------------------------------------


@FUZZ
@given(
    frames=matrices(st.integers(0, 12), 6, finite),
    texts=matrices(st.integers(1, 4), 6, finite),
    missing=st.lists(st.booleans(), max_size=12),
)
# Found by this test: a text vector of 1e-21s (its squares underflow float32) gave 1.00003.
@example(np.ones((1, 6), np.float32), np.full((1, 6), 1.37e-21, np.float32), [])
@example(np.full((1, 6), 3e20, np.float32), np.ones((1, 6), np.float32), [])  # squares overflow
def test_cosines_are_cosines_and_missing_frames_stay_missing(
    frames: np.ndarray, texts: np.ndarray, missing: list[bool]
) -> None:
    mask = np.zeros(len(frames), dtype=bool)
    mask[: len(missing)] = missing[: len(frames)]
    frames = frames.copy()
    frames[mask] = np.nan
    out = cosine_matrix(frames, texts)
    assert out.shape == (len(frames), len(texts))
    assert np.isnan(out[mask]).all(), "a missing frame must never get a score"
    ok = out[~mask]
    assert np.isfinite(ok).all() and (np.abs(ok) <= 1 + 1e-5).all()


@FUZZ
@given(
    sampled=st.sets(st.integers(0, 200), max_size=40).map(lambda s: np.array(sorted(s), np.int64)),
    cached=st.sets(st.integers(0, 200), max_size=40).map(lambda s: np.array(sorted(s), np.int64)),
    seed=st.integers(0, 2**16),
)
def test_score_table_scores_exactly_the_cached_sampled_frames(
    sampled: np.ndarray, cached: np.ndarray, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    vecs = rng.standard_normal((len(cached), 8)).astype(np.float32)
    texts = rng.standard_normal((2, 8)).astype(np.float32)
    table = score_table(sampled, cached, vecs, ["a", "b"], texts, sampled / 10.0)
    has = np.isin(sampled, cached)
    assert table.scores.shape == (len(sampled), 2)
    assert np.isfinite(table.scores[has]).all()
    assert np.isnan(table.scores[~has]).all()
    assert table.done == int(has.sum())


# -- views of the scores (smoothing, segments and each view's own laws: tests/unit/test_moments.py,
# test_views.py); here what every view and the chart share ----------------------------------------


@FUZZ
@given(
    scores=matrices(st.integers(0, 30), 3, st.one_of(st.floats(-1, 1), st.just(float("nan")))),
    baseline=matrices(st.just(30), 2, st.floats(-1, 1)),
    view=st.sampled_from(VIEWS),
)
def test_every_view_keeps_missing_frames_missing_and_invents_no_infinity(
    scores: np.ndarray, baseline: np.ndarray, view: str
) -> None:
    scores = scores.astype(np.float64)
    out = apply_view(view, scores, baseline[: len(scores)])
    assert out.shape == scores.shape
    assert not np.isinf(out).any()
    missing = np.isnan(scores).any(axis=1) if view == "softmax" else np.isnan(scores)
    if view == "softmax":
        assert np.isnan(out[missing]).all()
    else:
        assert (np.isnan(out) == missing).all(), "a missing frame is never a value, nor the reverse"


@FUZZ
@given(
    y=hnp.arrays(np.float64, st.integers(0, 300), elements=maybe_nan),
    width=st.integers(1, 120),
)
def test_decimation_keeps_every_extreme_and_invents_nothing(y: np.ndarray, width: int) -> None:
    x = np.arange(len(y), dtype=np.float64) / 10
    runs = decimate_minmax(x, y, 0.0, max(float(x[-1]) if len(x) else 1.0, 0.1), width)
    drawn = np.concatenate([r.y for r in runs]) if runs else np.zeros(0)
    good = y[np.isfinite(y)]
    assert np.isfinite(drawn).all(), "a missing frame is never drawn"
    assert set(drawn.tolist()) <= set(good.tolist()), "only real points are drawn"
    if good.size:
        assert drawn.max() == good.max() and drawn.min() == good.min()
    for run in runs:
        assert (np.diff(run.x) >= 0).all(), "points stay in time order"


@FUZZ
@given(series=st.lists(hnp.arrays(np.float64, st.integers(0, 20), elements=maybe_nan), max_size=4))
def test_value_limits_hold_every_finite_value(series: list[np.ndarray]) -> None:
    lo, hi = value_limits(series)
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    for s in series:
        good = s[np.isfinite(s)]
        assert (good >= lo).all() and (good <= hi).all()


# -- stored vectors ----------------------------------------------------------------------------


@FUZZ
@given(
    key=st.binary(min_size=1, max_size=80),
    vec=hnp.arrays(np.dtype("<f2"), st.integers(1, 64), elements=st.floats(-1, 1, width=16)),
    data=st.data(),
)
def test_any_damaged_run_of_bytes_is_caught(key: bytes, vec: np.ndarray, data: Any) -> None:
    blob = bytearray(encode_vector(key, vec))
    back = decode_vector(key, bytes(blob))
    assert back is not None and back.tobytes() == vec.tobytes()
    at = data.draw(st.integers(0, len(blob) - 1))
    span = data.draw(st.integers(1, min(4, len(blob) - at)))
    new = data.draw(st.binary(min_size=span, max_size=span))
    assume(bytes(blob[at : at + span]) != new)
    blob[at : at + span] = new
    damaged = decode_vector(key, bytes(blob))
    assert damaged is None, "a damaged value was read back as a vector"


# -- server answers ----------------------------------------------------------------------------

# Anything JSON or YAML can hold: what a server may answer, what a config file may say.
documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=25,
)
answers = st.one_of(
    documents,
    st.fixed_dictionaries({"embeddings": documents}),
    st.lists(st.fixed_dictionaries({"embeddings": st.lists(st.lists(maybe_nan, max_size=4))})),
)


@FUZZ
@given(answer=answers, expected=st.integers(0, 4))
def test_any_answer_is_usable_vectors_or_an_invalid_response(answer: Any, expected: int) -> None:
    try:
        mat = embeddings_from_response(answer, expected, server="http://s", model_id="clip/x")
    except InvalidResponse as exc:
        assert "http://s" in str(exc) and "\n" not in str(exc)
        return
    assert mat.shape[0] == expected and mat.dtype == np.float32
    assert np.isfinite(mat).all()
    if expected:
        assert mat.shape[1] > 0 and (np.abs(mat).max(axis=1) > 0).all()


@FUZZ
@given(arr=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5), elements=maybe_nan))
def test_check_vectors_accepts_only_proper_matrices(arr: np.ndarray) -> None:
    expected = arr.shape[0] if arr.ndim else 0
    try:
        out = check_vectors(arr, expected, server=None, model_id="clip/x")
    except InvalidResponse:
        return
    assert out.ndim == 2 and np.isfinite(out).all()


# -- config parsing ----------------------------------------------------------------------------

config_keys = st.sampled_from(sorted({k for f in FIELDS for k in f.keys} | {"sampel_fps", "x"}))


@FUZZ
@given(doc=st.dictionaries(config_keys, documents, max_size=6))
def test_any_config_document_is_settings_or_one_config_error(
    doc: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        s = load_settings({"config": path}, env={})
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert s.sample_fps is None or (math.isfinite(s.sample_fps) and s.sample_fps > 0)
    assert 0 < s.timeout <= 3600
    assert isinstance(s.clip_version, str) and s.clip_version
    assert all(isinstance(p, str) for p in s.prompts)
    assert s.api_key is None or isinstance(s.api_key, str)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_a_config_file_are_settings_or_one_config_error(
    raw: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path: Path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_bytes(raw)
    try:
        read_config(path, [])
        load_settings({"config": path}, env={})
    except ConfigError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(value=st.text(max_size=12))
def test_any_command_line_rate_is_a_rate_or_one_config_error(value: str) -> None:
    try:
        s = load_settings({"sample_fps": value}, env={})
    except ConfigError:
        return
    assert s.sample_fps is None or (math.isfinite(s.sample_fps) and s.sample_fps > 0)
