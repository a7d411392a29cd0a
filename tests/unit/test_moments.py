"""Moments and thresholds: smoothing in seconds, the auto threshold, segments, spikes (unit +
property tests)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clipvi_tui.core.moments import (
    MIN_NOISE,
    changes,
    find_segments,
    find_spikes,
    smooth,
    true_runs,
)
from clipvi_tui.core.thresholds import (
    MIN_AUTO_FRAMES,
    auto_threshold,
    noise_scale,
    otsu_split,
    resolve_threshold,
)

values01 = st.floats(-1.0, 1.0, allow_nan=False, width=32)


@st.composite
def curves(draw: st.DrawFn, min_size: int = 0, max_size: int = 60) -> tuple[np.ndarray, ...]:
    """``(values, times, frames)``: a curve with NaN gaps on ascending, uneven (VFR) times."""
    n = draw(st.integers(min_size, max_size))
    values = draw(arrays(np.float64, n, elements=values01))
    gaps = draw(arrays(bool, n, elements=st.booleans()))
    values = np.where(gaps & draw(st.booleans()), np.nan, values)
    steps = draw(arrays(np.float64, n, elements=st.floats(0.01, 1.0)))
    times = np.cumsum(steps) - (steps[0] if n else 0.0)
    frames = np.cumsum(draw(arrays(np.int64, n, elements=st.integers(1, 4)))) - 1
    return values, times, frames


# -- runs and smoothing -------------------------------------------------------------------------


@given(arrays(bool, st.integers(0, 50), elements=st.booleans()))
def test_true_runs_rebuild_the_mask(mask: np.ndarray) -> None:
    rebuilt = np.zeros_like(mask)
    runs = true_runs(mask)
    for a, b in runs:
        rebuilt[a : b + 1] = True
    assert (rebuilt == mask).all()
    assert all(b1 + 1 < a2 for (_, b1), (a2, _) in itertools.pairwise(runs))


@given(curves(), st.floats(0.0, 3.0))
def test_smoothing_keeps_gaps_and_never_bridges_them(
    curve: tuple[np.ndarray, ...], seconds: float
) -> None:
    values, times, _ = curve
    out = smooth(values, times, seconds)
    assert (np.isnan(out) == np.isnan(values)).all(), "a gap stays a gap, nothing else becomes one"
    # Brute force: the mean of the same run's values within half a window.
    finite = np.isfinite(values)
    for a, b in true_runs(finite):
        for i in range(a, b + 1):
            near = [j for j in range(a, b + 1) if abs(times[j] - times[i]) <= seconds / 2 + 1e-9]
            want = values[i] if seconds <= 0 else np.mean(values[near])
            assert out[i] == pytest.approx(want, abs=1e-9)


@given(curves(min_size=3), st.floats(0.1, 3.0), st.floats(-1, 1))
def test_smoothing_is_untouched_by_frames_across_a_gap(
    curve: tuple[np.ndarray, ...], seconds: float, other: float
) -> None:
    values, times, _ = curve
    values = values.copy()
    values[len(values) // 2] = np.nan  # a frame not embedded yet
    changed = values.copy()
    changed[len(values) // 2 + 1 :] = np.where(
        np.isnan(changed[len(values) // 2 + 1 :]), np.nan, other
    )
    left = slice(0, len(values) // 2)
    assert np.allclose(
        smooth(values, times, seconds)[left], smooth(changed, times, seconds)[left], equal_nan=True
    )


def test_smoothing_edge_cases() -> None:
    assert smooth(np.zeros(0), np.zeros(0), 1.0).shape == (0,)
    assert smooth(np.array([0.4]), np.array([0.0]), 5.0).tolist() == [0.4]
    flat = np.full(20, 0.3)
    assert np.allclose(smooth(flat, np.arange(20) / 5, 2.0), 0.3)
    # The window is in seconds: at 10 fps a 0.2 s window averages three frames.
    ramp = np.arange(10.0)
    assert smooth(ramp, np.arange(10) / 10, 0.2)[5] == pytest.approx(5.0)
    assert smooth(np.array([0.0, 0, 3, 0, 0]), np.arange(5) / 10, 0.2)[2] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        smooth(np.zeros(3), np.zeros(2), 1.0)


# -- noise, Otsu and the auto threshold ---------------------------------------------------------


def test_noise_scale_measures_white_noise_and_ignores_steps() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.02, 2000)
    assert noise_scale(noise) == pytest.approx(0.02, rel=0.1)
    steps = noise + np.repeat([0.0, 0.5, 0.0, 0.5], 500)
    assert noise_scale(steps) == pytest.approx(0.02, rel=0.15), "state changes are not noise"
    assert noise_scale(np.full(10, 0.3)) == MIN_NOISE
    assert noise_scale(np.array([0.1, np.nan, 0.2])) == MIN_NOISE  # no two embedded neighbours


def test_otsu_split_between_two_clusters() -> None:
    v = np.array([0.1, 0.12, 0.11, np.nan, 0.5, 0.52])
    assert 0.12 < otsu_split(v) < 0.5  # type: ignore[operator]
    assert otsu_split(np.full(4, 0.2)) is None
    assert otsu_split(np.array([0.2])) is None
    assert otsu_split(np.zeros(0)) is None


@settings(max_examples=150, deadline=None)
@given(
    st.integers(20, 400),
    st.floats(-0.5, 0.9),
    st.floats(1e-3, 0.2),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.5, 2.0]),
)
def test_pure_noise_under_auto_gives_no_segments(
    n: int, loc: float, scale: float, seed: int, smooth_s: float
) -> None:
    """White noise at any level — even above the presence floor — has no separated high state,
    smoothed or not."""
    raw = np.random.default_rng(seed).normal(loc, scale, n)
    times = np.arange(n) / 5.0
    curve = smooth(raw, times, smooth_s)
    t = auto_threshold(curve, floor=0.25, noise_ref=raw)
    assert t.value is None, f"noise got threshold {t.value}"
    assert find_segments("p", curve, times, np.arange(n), t.value) == []


def step_curve(levels: list[tuple[float, int]], jitter: float = 0.005, seed: int = 0):
    rng = np.random.default_rng(seed)
    v = np.concatenate([np.full(n, level) for level, n in levels])
    return v + rng.normal(0, jitter, v.size)


def test_auto_splits_a_present_state_from_the_background() -> None:
    curve = step_curve([(-0.2, 40), (0.6, 20), (-0.2, 40)])
    t = auto_threshold(curve, floor=0.25)
    assert t.rule == "auto" and t.value is not None and -0.1 < t.value < 0.5


def test_auto_says_no_segment_when_the_high_state_stays_under_the_floor() -> None:
    """A prompt whose object never appears still steps up when something like it enters (the
    demo model's "a red circle" while a purple circle is on screen): separated, but absent."""
    curve = step_curve([(-0.25, 40), (0.05, 30), (-0.25, 30)])
    t = auto_threshold(curve, floor=0.25)
    assert t.value is None and "below the presence floor" in t.reason


def test_auto_peels_a_partial_match_plateau_off_the_present_state() -> None:
    curve = step_curve([(-0.25, 40), (0.07, 30), (0.52, 20), (-0.25, 20)])
    t = auto_threshold(curve, floor=0.25)
    assert t.value is not None and 0.1 < t.value < 0.5, t
    segs = find_segments("p", curve, np.arange(curve.size) / 5, np.arange(curve.size), t.value)
    assert [(s.start, s.end) for s in segs] == [(70, 89)]


def test_auto_keeps_a_present_state_that_dips_with_a_second_object() -> None:
    """0.71 alone, 0.48 with a second object in view: both are present, one segment."""
    curve = step_curve([(-0.2, 40), (0.71, 15), (0.48, 15), (-0.2, 30)])
    t = auto_threshold(curve, floor=0.25)
    segs = find_segments("p", curve, np.arange(curve.size) / 5, np.arange(curve.size), t.value)
    assert [(s.start, s.end) for s in segs] == [(40, 69)]


def test_auto_when_both_states_are_present_counts_everything_above_the_floor() -> None:
    curve = step_curve([(0.5, 40), (0.8, 40)])
    assert auto_threshold(curve, floor=0.25).value == pytest.approx(0.25)


def test_auto_without_a_floor_rests_on_separation_alone() -> None:
    """Image-to-image curves ("more like this frame") are all high: no floor, the separated
    high state is the answer, and noise still gets none."""
    curve = step_curve([(0.7, 40), (0.95, 20), (0.7, 40)])
    t = auto_threshold(curve, floor=-np.inf)
    assert t.value is not None and 0.72 < t.value < 0.93
    noise = np.random.default_rng(5).normal(0.8, 0.02, 200)
    assert auto_threshold(noise, floor=-np.inf).value is None


@pytest.mark.parametrize(
    ("curve", "reason"),
    [
        (np.zeros(0), "fewer than"),
        (np.array([0.9]), "fewer than"),
        (np.full(MIN_AUTO_FRAMES - 1, 0.9), "fewer than"),
        (np.full(50, 0.9), "flat"),
        (np.full(50, np.nan), "fewer than"),
    ],
)
def test_auto_edge_cases(curve: np.ndarray, reason: str) -> None:
    t = auto_threshold(curve, floor=0.25)
    assert t.value is None and reason in t.reason


def test_auto_ignores_frames_not_embedded_yet() -> None:
    curve = step_curve([(-0.2, 40), (0.6, 20), (-0.2, 40)])
    holes = curve.copy()
    holes[::3] = np.nan
    assert auto_threshold(holes, floor=0.25).value is not None


def test_fixed_threshold_wins_over_auto() -> None:
    t = resolve_threshold(np.zeros(3), 0.4, floor=0.25)
    assert t.value == 0.4 and t.rule == "fixed"
    assert resolve_threshold(np.zeros(3), None, floor=0.25).rule == "auto"


# -- segments -----------------------------------------------------------------------------------


@given(
    curves(),
    st.floats(-1, 1),
    st.floats(0, 2),
    st.floats(0, 2),
    st.floats(0, 2),
)
def test_segments_never_overlap_and_lie_inside_the_video(
    curve: tuple[np.ndarray, ...], threshold: float, gap: float, min_len: float, pad: float
) -> None:
    values, times, frames = curve
    segs = find_segments(
        "p", values, times, frames, threshold, max_gap_s=gap, min_length_s=min_len, pad_s=pad
    )
    for s in segs:
        assert 0 <= s.start <= s.peak <= s.end < len(values)
        assert frames[0] <= s.start_frame <= s.peak_frame <= s.end_frame <= frames[-1]
        assert times[0] <= s.start_s <= s.peak_s <= s.end_s <= times[-1]
        assert s.end_s - s.start_s >= min_len - 1e-9
        inside = values[s.start : s.end + 1]
        assert np.isfinite(inside).all(), "a segment never spans frames not embedded"
        assert s.peak_score == pytest.approx(np.max(inside))
        assert s.mean_score == pytest.approx(np.mean(inside))
        assert s.peak_score >= threshold
    for s1, s2 in itertools.pairwise(segs):
        assert s1.end < s2.start and s1.end_s <= s2.start_s


@given(curves(), st.floats(-1, 1))
def test_without_gap_length_or_padding_segments_are_exactly_the_frames_above(
    curve: tuple[np.ndarray, ...], threshold: float
) -> None:
    values, times, frames = curve
    covered = np.zeros(len(values), dtype=bool)
    for s in find_segments("p", values, times, frames, threshold):
        covered[s.start : s.end + 1] = True
    with np.errstate(invalid="ignore"):
        assert (covered == (values >= threshold)).all()


def test_gaps_are_bridged_short_segments_dropped_and_padding_added() -> None:
    times = np.arange(30) / 5.0  # 5 samples per second
    frames = np.arange(30) * 6  # sampled from a 30 fps video
    v = np.zeros(30)
    v[5:10] = 1  # 0.8 s long
    v[11:16] = 1  # 0.4 s gap before it
    v[25] = 1  # a lone frame
    segs = find_segments("p", v, times, frames, 0.5, max_gap_s=0.4, min_length_s=0.5)
    assert [(s.start, s.end) for s in segs] == [(5, 15)]
    assert (segs[0].start_frame, segs[0].end_frame) == (30, 90)
    assert (segs[0].start_s, segs[0].end_s) == (1.0, 3.0)
    assert segs[0].mean_score == pytest.approx(10 / 11)
    padded = find_segments("p", v, times, frames, 0.5, max_gap_s=0.4, min_length_s=0.5, pad_s=0.4)
    assert [(s.start, s.end) for s in padded] == [(3, 17)]
    at_edges = find_segments("p", v, times, frames, 0.5, pad_s=100)
    assert [(s.start, s.end) for s in at_edges] == [(0, 29)], "padding joins and stops at the ends"


def test_segments_neither_bridge_nor_pad_into_frames_not_embedded() -> None:
    times = np.arange(12) / 5.0
    v = np.array([0, 1, 1, np.nan, 1, 1, 0, 0, 0, 1, 1, 0], dtype=float)
    segs = find_segments("p", v, times, np.arange(12), 0.5, max_gap_s=5, pad_s=5)
    assert [(s.start, s.end) for s in segs] == [(0, 2), (4, 11)]


def test_segment_edge_cases() -> None:
    t, f = np.arange(3) / 5, np.arange(3)
    assert find_segments("p", np.array([0.9, 0.9, 0.9]), t, f, None) == []
    assert find_segments("p", np.zeros(0), np.zeros(0), np.zeros(0), 0.5) == []
    one = find_segments("p", np.array([0.9]), np.array([0.0]), np.array([7]), 0.5)
    assert [(s.start_frame, s.end_frame, s.peak_frame) for s in one] == [(7, 7, 7)]
    flat = find_segments("p", np.full(3, 0.5), t, f, 0.5)
    assert [(s.start, s.end) for s in flat] == [(0, 2)], "at the threshold counts as above"
    header = "prompt,start_frame,end_frame,start_s,end_s,peak_frame,peak_s,peak_score,mean_score"
    assert list(flat[0].to_dict()) == header.split(","), "the export's fields, in its order"


# -- spikes -------------------------------------------------------------------------------------


def test_changes_only_between_embedded_neighbours() -> None:
    d = changes(np.array([0.1, 0.3, np.nan, 0.4, 0.2]))
    assert (
        np.isnan(d[[0, 2, 3]]).all() and d[1] == pytest.approx(0.2) and d[4] == pytest.approx(-0.2)
    )
    assert changes(np.zeros(0)).shape == (0,)


def test_spikes_mark_the_jumps_of_a_step_curve() -> None:
    curve = step_curve([(0.1, 30), (0.6, 30), (0.1, 30)], jitter=0.01, seed=3)
    times = np.arange(90) / 5
    spikes = find_spikes("p", curve, times, np.arange(90) * 2, k=5)
    assert [(s.position, s.frame, s.change > 0) for s in spikes] == [
        (30, 60, True),
        (60, 120, False),
    ]
    assert spikes[0].time_s == pytest.approx(6.0)


@given(st.integers(2, 300), st.integers(0, 2**32 - 1))
def test_flat_or_gappy_curves_have_no_spikes(n: int, seed: int) -> None:
    assert find_spikes("p", np.full(n, 0.3), np.arange(n), np.arange(n), 5) == []
    v = np.random.default_rng(seed).normal(0.3, 0.01, n)
    v[1::2] = np.nan  # no two embedded neighbours: no change is known
    assert find_spikes("p", v, np.arange(n), np.arange(n), 5) == []
