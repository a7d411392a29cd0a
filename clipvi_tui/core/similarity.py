"""Scores from vectors: cosine matrices, smoothing, softmax, thresholds and segments (pure numpy).

Missing frames (not embedded yet) are NaN throughout, never zero: a zero would draw as a real,
very low score and lie to the user.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from clipvi_tui.core.cache import normalise


def cosine_matrix(frames: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Cosine similarity of every frame vector with every text vector.

    Args:
        frames: ``[N, D]`` frame vectors (rows of NaN allowed for missing frames).
        texts: ``[P, D]`` prompt vectors.

    Returns:
        ``[N, P]`` float32; rows of missing frames are NaN.
    """
    f = np.asarray(frames, dtype=np.float32)
    t = np.asarray(texts, dtype=np.float32)
    if f.size == 0 or t.size == 0:
        return np.full((len(f), len(t)), np.nan, dtype=np.float32)
    missing: np.ndarray = np.asarray(np.isnan(f).any(axis=1))
    fn = normalise(np.where(missing[:, None], 0.0, f))
    out = fn @ normalise(t).T
    out[missing] = np.nan
    return out.astype(np.float32)


@dataclass
class ScoreTable:
    """Scores of every sampled frame of a video against each prompt.

    Attributes:
        frames: the sampled raw frame indices, ascending, length N.
        prompts: the prompts, length P.
        scores: ``[N, P]`` cosine similarities, NaN where the frame is not embedded yet.
        times: seconds at which each sampled frame is shown, length N (what exports print and
            what every time-based analysis uses; never recomputed from an average fps).
    """

    frames: np.ndarray
    prompts: list[str]
    scores: np.ndarray
    times: np.ndarray

    @property
    def done(self) -> int:
        """How many sampled frames have a score."""
        if self.scores.size == 0:
            return 0
        return int((~np.isnan(self.scores[:, 0])).sum())

    def column(self, prompt: str) -> np.ndarray:
        """The score curve of one prompt."""
        return self.scores[:, self.prompts.index(prompt)]


def score_table(
    sampled: np.ndarray,
    cached_indices: np.ndarray,
    cached_vectors: np.ndarray,
    prompts: list[str],
    text_vectors: np.ndarray,
    times: np.ndarray,
) -> ScoreTable:
    """Build the score table of the sampled frames from whatever the cache holds.

    Frames cached but not sampled (left by another sampling rate) are ignored; sampled frames
    not cached yet get NaN. ``times`` are the sampled frames' times in seconds.
    """
    n = len(sampled)
    dim = cached_vectors.shape[1] if cached_vectors.size else 0
    mat = np.full((n, dim), np.nan, dtype=np.float32)
    if len(cached_indices) and n:
        pos = np.searchsorted(sampled, cached_indices)
        pos_clipped = np.minimum(pos, n - 1)
        hit = (pos < n) & (sampled[pos_clipped] == cached_indices)
        mat[pos[hit]] = cached_vectors[hit]
    if dim == 0:
        scores = np.full((n, len(prompts)), np.nan, dtype=np.float32)
    else:
        scores = cosine_matrix(mat, text_vectors)
    return ScoreTable(
        frames=np.asarray(sampled),
        prompts=list(prompts),
        scores=scores,
        times=np.asarray(times, dtype=np.float64),
    )


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average that skips NaNs (a gap stays a gap, its edges stay honest)."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or v.size == 0:
        return v.astype(np.float32)
    ok = ~np.isnan(v)
    kernel = np.ones(window)
    sums = np.convolve(np.where(ok, v, 0.0), kernel, mode="same")
    counts = np.convolve(ok.astype(np.float64), kernel, mode="same")
    out = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)
    out[~ok] = np.nan
    return out.astype(np.float32)


def softmax(scores: np.ndarray, temperature: float = 100.0) -> np.ndarray:
    """Per-frame softmax over prompts with CLIP's logit scale (100), NaN rows kept NaN."""
    s = np.asarray(scores, dtype=np.float64) * temperature
    if s.size == 0:
        return s.astype(np.float32)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        e = np.exp(s - np.nanmax(s, axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def segments(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as ``(start, end_inclusive)`` positions."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def midpoint_threshold(values: np.ndarray) -> float:
    """A threshold between a curve's low and high clusters (two-means on the finite values).

    Used when nobody gave a threshold: it needs no labels, only a curve that has both states.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    lo, hi = float(v.min()), float(v.max())
    t = (lo + hi) / 2
    for _ in range(50):
        low, high = v[v <= t], v[v > t]
        if low.size == 0 or high.size == 0:
            break
        nt = (low.mean() + high.mean()) / 2
        if abs(nt - t) < 1e-9:
            break
        t = nt
    return float(t)
