"""The shared pipeline: view → smoothing → threshold → segments, with its settings."""

from __future__ import annotations

import numpy as np
import pytest

from clipvi_tui.core.analysis import MomentSettings, analyse, difference_curves


def two_prompts(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 100
    present = np.full(n, -0.2)
    present[30:50] = 0.6
    absent = np.full(n, -0.25)
    absent[60:80] = 0.05  # a partial match, separated but under the floor
    scores = np.column_stack([present, absent]) + rng.normal(0, 0.005, (n, 2))
    return scores, np.arange(n) / 5.0, np.arange(n) * 6


def test_analyse_finds_the_present_prompt_only() -> None:
    scores, times, frames = two_prompts()
    out = analyse(scores, ["a red circle", "a green star"], times, frames, MomentSettings())
    assert [(s.start_frame, s.end_frame) for s in out[0].segments] == [(180, 294)]
    assert out[1].segments == [] and out[1].threshold.value is None
    assert out[0].curve.shape == (100,)


def test_raw_and_zscore_views_agree_on_segments() -> None:
    scores, times, frames = two_prompts(1)
    prompts = ["a", "b"]
    raw = analyse(scores, prompts, times, frames, MomentSettings(view="raw"))
    z = analyse(scores, prompts, times, frames, MomentSettings(view="zscore"))
    for r, q in zip(raw, z, strict=True):
        assert [(s.start, s.end) for s in r.segments] == [(s.start, s.end) for s in q.segments]


def test_fixed_thresholds_per_prompt_override_the_global_one() -> None:
    scores, times, frames = two_prompts()
    s = MomentSettings(threshold=0.0, thresholds={"b": 10.0})
    out = analyse(scores, ["a", "b"], times, frames, s)
    assert out[0].threshold.value == 0.0 and out[0].threshold.rule == "fixed"
    assert out[1].threshold.value == 10.0 and out[1].segments == []
    assert [(seg.start, seg.end) for seg in out[0].segments] == [(30, 49)]


def test_softmax_and_baseline_views() -> None:
    scores, times, frames = two_prompts()
    soft = analyse(scores, ["a", "b"], times, frames, MomentSettings(view="softmax"))
    assert np.allclose(soft[0].curve + soft[1].curve, 1.0)
    # A neutral caption at 0.1: the partial match (0.05) loses to it, the real match wins.
    base = np.full((100, 1), 0.1)
    out = analyse(scores, ["a", "b"], times, frames, MomentSettings(view="baseline"), base)
    assert [(s.start, s.end) for s in out[0].segments] == [(30, 49)]
    assert out[1].segments == []
    with pytest.raises(ValueError, match="baseline"):
        analyse(scores, ["a", "b"], times, frames, MomentSettings(view="baseline"))


def test_smoothing_and_spikes() -> None:
    scores, times, frames = two_prompts()
    out = analyse(scores, ["a", "b"], times, frames, MomentSettings(smooth_s=1.0))
    assert out[0].curve[29] > scores[29, 0], "the ramp starts before the step when smoothed"
    spikes = analyse(scores, ["a", "b"], times, frames, MomentSettings())[0].spikes(
        times, frames, 5.0
    )
    assert [s.frame for s in spikes] == [180, 300]
    assert np.isnan(difference_curves(scores)[0]).all()
    assert difference_curves(scores).shape == scores.shape


def test_settings_are_validated_and_shapes_checked() -> None:
    with pytest.raises(ValueError, match="unknown view"):
        MomentSettings(view="cosine")
    with pytest.raises(ValueError, match="smooth_s"):
        MomentSettings(smooth_s=-1)
    with pytest.raises(ValueError, match="spike_k"):
        MomentSettings(spike_k=0)
    with pytest.raises(ValueError, match="prompts"):
        analyse(np.zeros((3, 2)), ["a"], np.arange(3), np.arange(3), MomentSettings())
    assert (
        analyse(np.zeros((0, 1)), ["a"], np.zeros(0), np.zeros(0), MomentSettings())[0].segments
        == []
    )
