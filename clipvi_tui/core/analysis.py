"""The one path from raw cosine scores to moments, shared by the app and the command line.

``raw scores → view → smoothing → threshold → segments (and spikes)``. The app's segment list
and ``clipvi-tui export --segments`` both call :func:`analyse` with the same
:class:`MomentSettings`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from clipvi_tui.core.moments import Segment, Spike, changes, find_segments, find_spikes, smooth
from clipvi_tui.core.thresholds import Threshold, resolve_threshold
from clipvi_tui.core.views import apply_view, check_view, presence_floors

DEFAULT_BASELINE_PROMPTS = ("a photo", "a video frame")


@dataclass(frozen=True)
class MomentSettings:
    """How curves become moments (every field is a config.yaml key; see the README).

    Attributes:
        view: ``raw``, ``softmax``, ``baseline`` or ``zscore``.
        smooth_s: moving-average window in seconds; 0 = off.
        threshold: a fixed threshold for every prompt, in the view's units; None = ``auto``.
        thresholds: thresholds for single prompts, overriding ``threshold`` (None = ``auto``
            for that prompt).
        max_gap_s: gaps up to this long inside a segment are bridged.
        min_length_s: shorter segments are dropped.
        pad_s: segments are widened by this much on each side.
        presence_floor: the cosine the high state must reach for ``auto`` (raw units; the
            probability views use 0.5, zscore maps this floor through each prompt's scale).
        spike_k: a change larger than this many robust spreads is a spike.
    """

    view: str = "raw"
    smooth_s: float = 0.0
    threshold: float | None = None
    thresholds: Mapping[str, float | None] = field(default_factory=dict)
    max_gap_s: float = 1.0
    min_length_s: float = 0.4
    pad_s: float = 0.0
    presence_floor: float = 0.25
    spike_k: float = 5.0

    def __post_init__(self) -> None:
        """Validate the view and the ranges (a bad value would silently give no moments)."""
        check_view(self.view)
        for name in ("smooth_s", "max_gap_s", "min_length_s", "pad_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")
        if self.spike_k <= 0:
            raise ValueError(f"spike_k must be positive, not {self.spike_k}")

    def fixed_for(self, prompt: str) -> float | None:
        """The fixed threshold of ``prompt`` (its own, else the global one), None = auto."""
        if prompt in self.thresholds:
            return self.thresholds[prompt]
        return self.threshold


@dataclass
class PromptMoments:
    """Everything found for one prompt.

    Attributes:
        prompt: the prompt.
        curve: its scores in the view, smoothed (what the chart draws and segments use).
        threshold: the threshold applied.
        segments: its segments, in time order.
    """

    prompt: str
    curve: np.ndarray
    threshold: Threshold
    segments: list[Segment]

    def spikes(self, times: np.ndarray, frames: np.ndarray, k: float) -> list[Spike]:
        """Spikes of the curve (frame differencing), ``k`` robust spreads and more."""
        return find_spikes(self.prompt, self.curve, times, frames, k)


def analyse(
    scores: np.ndarray,
    prompts: Sequence[str],
    times: np.ndarray,
    frames: np.ndarray,
    settings: MomentSettings,
    baseline: np.ndarray | None = None,
    image_prompts: Collection[str] = (),
) -> list[PromptMoments]:
    """Views, smoothing, thresholds and segments of every prompt.

    Args:
        scores: ``[N, P]`` raw cosines (NaN where not embedded); for the softmax view these are
            the prompts shown.
        prompts: the P prompts.
        times: ``[N]`` seconds of the sampled frames.
        frames: ``[N]`` raw frame indices.
        settings: how to find the moments.
        baseline: ``[N, B]`` raw cosines of the baseline prompts (the baseline view needs it).
        image_prompts: prompts whose vector is a frame's ("more like this frame"): their
            cosines are image to image, so the text presence floor means nothing for them and
            their ``auto`` threshold rests on separation alone.

    Returns:
        One :class:`PromptMoments` per prompt, in order.

    Raises:
        ValueError: on inconsistent shapes, or the baseline view without baselines.
    """
    raw = np.asarray(scores, dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != len(prompts):
        raise ValueError(f"scores of shape {raw.shape} for {len(prompts)} prompts")
    if raw.shape[0] != len(times) or raw.shape[0] != len(frames):
        raise ValueError(f"{raw.shape[0]} score rows, {len(times)} times, {len(frames)} frames")
    viewed = apply_view(settings.view, raw, baseline)
    floors = presence_floors(settings.view, raw, settings.presence_floor)
    for j, prompt in enumerate(prompts):
        if prompt in image_prompts:
            floors[j] = -np.inf
    out = []
    for j, prompt in enumerate(prompts):
        curve = smooth(viewed[:, j], times, settings.smooth_s)
        threshold = resolve_threshold(
            curve, settings.fixed_for(prompt), floor=float(floors[j]), noise_ref=viewed[:, j]
        )
        segs = find_segments(
            prompt,
            curve,
            times,
            frames,
            threshold.value,
            max_gap_s=settings.max_gap_s,
            min_length_s=settings.min_length_s,
            pad_s=settings.pad_s,
        )
        out.append(PromptMoments(prompt, curve, threshold, segs))
    return out


def difference_curves(curves: np.ndarray) -> np.ndarray:
    """``[N, P]`` change of every curve from its previous sample (the spikes view)."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim == 1:
        return changes(c)
    return np.column_stack([changes(c[:, j]) for j in range(c.shape[1])]) if c.size else c
