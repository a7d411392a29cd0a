"""Scores from vectors: cosine matrices and the score table (pure numpy).

Views, smoothing, thresholds and segments live in ``views``, ``moments`` and ``analysis``.

Missing frames (not embedded yet) are NaN throughout, never zero: a zero would draw as a real,
very low score and lie to the user.
"""

from __future__ import annotations

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


def sampled_vectors(
    sampled: np.ndarray, cached_indices: np.ndarray, cached_vectors: np.ndarray
) -> np.ndarray:
    """The ``[N, D]`` vectors of the sampled frames, NaN rows for those not cached yet.

    Frames cached but not sampled (left by another sampling rate) are ignored.
    """
    n = len(sampled)
    dim = cached_vectors.shape[1] if cached_vectors.size else 0
    mat = np.full((n, dim), np.nan, dtype=np.float32)
    if len(cached_indices) and n:
        pos = np.searchsorted(sampled, cached_indices)
        pos_clipped = np.minimum(pos, n - 1)
        hit = (pos < n) & (sampled[pos_clipped] == cached_indices)
        mat[pos[hit]] = cached_vectors[hit]
    return mat


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
    mat = sampled_vectors(sampled, cached_indices, cached_vectors)
    if mat.shape[1] == 0:
        scores = np.full((n, len(prompts)), np.nan, dtype=np.float32)
    else:
        scores = cosine_matrix(mat, text_vectors)
    return ScoreTable(
        frames=np.asarray(sampled),
        prompts=list(prompts),
        scores=scores,
        times=np.asarray(times, dtype=np.float64),
    )
