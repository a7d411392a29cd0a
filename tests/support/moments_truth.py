"""Scoring exported segments against the synthetic world's ground truth (tests and bench).

Temporal IoU is counted over raw frames: a segment covers ``start_frame`` … ``end_frame``
inclusive, the truth covers the frames where the object is visible (``GroundTruth.visible``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import numpy as np

from clipvi_tui.synthetic.shapes import COLORS, SHAPES
from clipvi_tui.synthetic.truth import GroundTruth


def prompt_for(color: str, shape: str) -> str:
    """The demo prompt of a colour and shape."""
    return f"a {color} {shape}"


def present_prompts(truth: GroundTruth) -> dict[str, tuple[str, str]]:
    """Prompt → (colour, shape) of every object that is visible part of the time (not always:
    a threshold needs both states)."""
    out = {}
    for color, shape in sorted({(o.color, o.shape) for o in truth.objects}):
        seen = truth.visible(color, shape)
        if seen.any() and not seen.all():
            out[prompt_for(color, shape)] = (color, shape)
    return out


def absent_prompts(truth: GroundTruth) -> list[str]:
    """Prompts for colour+shape pairs that never appear, those with an absent colour first."""
    shown = {(o.color, o.shape) for o in truth.objects}
    colours = {o.color for o in truth.objects}
    pairs = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in shown]
    pairs.sort(key=lambda p: p[0] in colours)
    return [prompt_for(c, s) for c, s in pairs]


def parse_segments_csv(text: str) -> dict[str, list[tuple[int, int]]]:
    """``export --segments`` CSV → prompt → [(start_frame, end_frame), ...]."""
    out: dict[str, list[tuple[int, int]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out.setdefault(row["prompt"], []).append((int(row["start_frame"]), int(row["end_frame"])))
    return out


def coverage(spans: Iterable[tuple[int, int]], frame_count: int) -> np.ndarray:
    """Per raw frame: inside any of ``spans`` (inclusive)?"""
    mask = np.zeros(frame_count, dtype=bool)
    for a, b in spans:
        mask[a : b + 1] = True
    return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two frame masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def segment_ious(
    segments: dict[str, list[tuple[int, int]]], truth: GroundTruth
) -> dict[str, float]:
    """IoU of each present prompt's segments against where its object is visible."""
    return {
        prompt: iou(coverage(segments.get(prompt, []), truth.frame_count), truth.visible(c, s))
        for prompt, (c, s) in present_prompts(truth).items()
    }
