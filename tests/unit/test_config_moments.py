"""Settings of finding moments: defaults, config.yaml keys, validation, command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipvi_tui.config import ConfigError, load_settings
from clipvi_tui.core.analysis import MomentSettings


def test_moment_defaults() -> None:
    s = load_settings({}, env={})
    assert (s.view, s.smooth_s, s.threshold, s.thresholds) == ("raw", 0.0, None, {})
    assert (s.max_gap_s, s.min_length_s, s.pad_s) == (1.0, 0.4, 0.0)
    assert (s.presence_floor, s.spike_k, s.search_k) == (0.25, 5.0, 10)
    assert s.baseline_prompts == ["a photo", "a video frame"]
    assert s.moment_settings() == MomentSettings(
        max_gap_s=1.0, min_length_s=0.4, presence_floor=0.25, spike_k=5.0
    )


def test_every_moment_key_is_read_from_config_yaml(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "view: zscore\nsmooth_s: 0.5\nthreshold: 1.5\nthresholds: {'a dog|a puppy': 0.3, b: auto}\n"
        "max_gap_s: 2\nmin_length_s: 1\npad_s: 0.25\npresence_floor: 0.2\nspike_k: 4\n"
        "baseline_prompts: [a photo, an image]\nsearch_k: 3\nCLIP: ['a dog|a puppy', b]\n"
    )
    s = load_settings({"config": cfg}, env={})
    assert (s.view, s.smooth_s, s.threshold) == ("zscore", 0.5, 1.5)
    assert s.thresholds == {"a dog | a puppy": 0.3, "b": None}
    assert (s.max_gap_s, s.min_length_s, s.pad_s, s.presence_floor) == (2.0, 1.0, 0.25, 0.2)
    assert (s.spike_k, s.search_k, s.baseline_prompts) == (4.0, 3, ["a photo", "an image"])
    assert s.prompts == ["a dog | a puppy", "b"], "ensembles keep one spelling"
    m = s.moment_settings()
    assert m.fixed_for("a dog | a puppy") == 0.3 and m.fixed_for("b") is None
    assert m.fixed_for("c") == 1.5


def test_auto_threshold_spelled_out() -> None:
    assert load_settings({"threshold": "AUTO"}, env={}).threshold is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("view: cosine\n", "view must be one of"),
        ("smooth_s: -1\n", "smooth_s must be 0 or more"),
        ("smooth_s: soon\n", "smooth_s must be a number"),
        ("max_gap_s: .inf\n", "finite"),
        ("threshold: high\n", "threshold must be a number"),
        ("thresholds: [1, 2]\n", "thresholds must map"),
        ("thresholds: {a: high}\n", "thresholds: 'a' wants auto or a number"),
        ("presence_floor: 2\n", "between -1 and 1"),
        ("spike_k: 0\n", "spike_k must be more than 0"),
        ("baseline_prompts: 3\n", "baseline_prompts must be a list"),
        ("search_k: 2.5\n", "search_k must be a whole number"),
        ("search_k: true\n", "search_k must be a number"),
    ],
)
def test_bad_moment_values_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"config": cfg}, env={})
