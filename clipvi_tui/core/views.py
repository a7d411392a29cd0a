"""Score views: four ways to read the same cosine scores (pure numpy).

* ``raw`` — cosine similarity of frame and prompt, as the model gives it.
* ``softmax`` — per frame, a softmax across the prompts shown, with CLIP's logit scale 100:
  "which of my prompts is this frame?".
* ``baseline`` — per prompt, the probability of the prompt against neutral baseline prompts
  ("a photo", "a video frame"): the same softmax with only the prompt and the baselines, which
  takes out the part of a frame's score that every caption gets.
* ``zscore`` — per prompt, standardised over the video with the median and the MAD (robust: a
  prompt that is on screen a third of the time does not drag its own baseline up).

Missing frames (not embedded yet) stay NaN in every view. Each view also says where "present"
starts in its own units (:func:`presence_floors`), which the ``auto`` threshold needs.
"""

from __future__ import annotations

import numpy as np

VIEWS = ("raw", "softmax", "baseline", "zscore")
# CLIP's learned logit scale (exp(4.6052) = 100): softmax logits are 100 × cosine.
LOGIT_SCALE = 100.0
# MAD × this estimates a normal distribution's standard deviation.
MAD_TO_SD = 1.4826
# Below this spread a curve is treated as flat (float16 vectors give cosines to ≈5e-4).
MIN_SCALE = 1e-6
# In the probability views a prompt is "present" when it is likelier than the alternatives.
PROBABILITY_FLOOR = 0.5

VIEW_LABELS = {
    "raw": "cosine similarity",
    "softmax": "softmax over prompts",
    "baseline": "P(prompt vs baseline)",
    "zscore": "robust z-score",
}


def check_view(view: str) -> str:
    """Return ``view`` if it is one of :data:`VIEWS`.

    Raises:
        ValueError: naming the choices otherwise.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    return view


def next_view(view: str) -> str:
    """The view after ``view`` in :data:`VIEWS`, wrapping round (the app's view key)."""
    return VIEWS[(VIEWS.index(check_view(view)) + 1) % len(VIEWS)]


def softmax(scores: np.ndarray, scale: float = LOGIT_SCALE) -> np.ndarray:
    """Per-row softmax of ``scale × scores``; rows with a NaN stay NaN.

    Args:
        scores: ``[N, P]`` cosine similarities.
        scale: the logit scale (CLIP's is 100).

    Returns:
        ``[N, P]`` float64; every finite row sums to 1.
    """
    s = np.asarray(scores, dtype=np.float64) * scale
    if s.size == 0:
        return s
    missing: np.ndarray = np.asarray(np.isnan(s).any(axis=1))
    safe = np.where(missing[:, None], 0.0, s)
    e = np.exp(safe - safe.max(axis=1, keepdims=True))
    out = e / e.sum(axis=1, keepdims=True)
    out[missing] = np.nan
    return out


def baseline_probability(
    scores: np.ndarray, baseline: np.ndarray, scale: float = LOGIT_SCALE
) -> np.ndarray:
    """Per prompt and frame, the softmax probability of the prompt against the baselines only.

    ``p = exp(s·x) / (exp(s·x) + Σ_b exp(s·x_b))``, computed in log space so that a logit
    scale of 100 cannot overflow.

    Args:
        scores: ``[N, P]`` cosines of the prompts.
        baseline: ``[N, B]`` cosines of the baseline prompts (B ≥ 1).
        scale: the logit scale.

    Returns:
        ``[N, P]`` float64 in ``[0, 1]``; NaN where the frame is missing.

    Raises:
        ValueError: if there is no baseline prompt or the frame counts differ.
    """
    s = np.asarray(scores, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] == 0:
        raise ValueError("the baseline view needs at least one baseline prompt")
    if b.shape[0] != s.shape[0]:
        raise ValueError(f"baseline has {b.shape[0]} frames, scores have {s.shape[0]}")
    if s.size == 0:
        return s.copy()
    with np.errstate(invalid="ignore"):
        rest = np.logaddexp.reduce(scale * b, axis=1)[:, None]
        logit = scale * s - rest
        # p = 1 / (1 + exp(-logit)), written to stay finite for large |logit|.
        out = np.exp(-np.logaddexp(0.0, -logit))
    out[np.isnan(logit)] = np.nan
    return out


def robust_center_scale(values: np.ndarray) -> tuple[float, float]:
    """Median and robust standard deviation (1.4826 × MAD) of the finite values.

    When more than half the values are equal the MAD is 0; the mean absolute deviation (× 1.2533,
    its normal-consistency factor) is used then, and a flat curve gets scale 1 so that its
    z-scores are 0 rather than NaN or infinite.

    Returns:
        ``(center, scale)``; ``(nan, 1.0)`` if there is no finite value.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), 1.0
    center = float(np.median(v))
    dev = np.abs(v - center)
    scale = MAD_TO_SD * float(np.median(dev))
    if scale < MIN_SCALE:
        scale = 1.2533 * float(dev.mean())
    if scale < MIN_SCALE:
        scale = 1.0
    return center, scale


def robust_zscore(scores: np.ndarray) -> np.ndarray:
    """Each column standardised by its median and robust spread; NaN stays NaN.

    Args:
        scores: ``[N, P]`` (or ``[N]``) scores.

    Returns:
        Same shape, float64.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        c, k = robust_center_scale(s)
        return (s - c) / k
    out = np.empty_like(s)
    for j in range(s.shape[1]):
        c, k = robust_center_scale(s[:, j])
        out[:, j] = (s[:, j] - c) / k
    return out


def apply_view(view: str, scores: np.ndarray, baseline: np.ndarray | None = None) -> np.ndarray:
    """The ``[N, P]`` raw cosines seen through ``view``.

    Args:
        view: one of :data:`VIEWS`.
        scores: ``[N, P]`` cosines of the prompts shown (softmax runs across these).
        baseline: ``[N, B]`` cosines of the baseline prompts (the ``baseline`` view only).

    Returns:
        ``[N, P]`` float64.

    Raises:
        ValueError: on an unknown view, or the baseline view without baselines.
    """
    check_view(view)
    s = np.asarray(scores, dtype=np.float64)
    if view == "raw":
        return s.copy()
    if view == "softmax":
        return softmax(s)
    if view == "baseline":
        if baseline is None:
            raise ValueError("the baseline view needs at least one baseline prompt")
        return baseline_probability(s, baseline)
    return robust_zscore(s)


def presence_floors(view: str, scores: np.ndarray, raw_floor: float) -> np.ndarray:
    """Per prompt, the value in ``view``'s units at which "present" starts.

    ``raw``: the configured cosine floor. ``zscore``: the same cosine floor standardised with
    each prompt's own median and spread (so raw and zscore agree on segments). ``softmax`` and
    ``baseline``: 0.5, the point where the prompt is likelier than the alternatives.

    Args:
        view: one of :data:`VIEWS`.
        scores: ``[N, P]`` raw cosines.
        raw_floor: the presence floor in cosine units.

    Returns:
        ``[P]`` float64.
    """
    check_view(view)
    s = np.asarray(scores, dtype=np.float64)
    p = s.shape[1] if s.ndim == 2 else 1
    if view in ("softmax", "baseline"):
        return np.full(p, PROBABILITY_FLOOR)
    if view == "raw":
        return np.full(p, float(raw_floor))
    cols = s if s.ndim == 2 else s[:, None]
    out = []
    for j in range(p):
        c, k = robust_center_scale(cols[:, j])
        out.append((raw_floor - c) / k)
    return np.asarray(out, dtype=np.float64)
