"""Search: the k best *moments* for a query, across one video or a whole library (pure numpy).

A query (a text vector, or a frame's own vector for "more like this frame") gives every video a
curve. The best frame of all is the first hit; its **moment** is the stretch around it where the
curve stays above halfway between the peak and the video's typical (median) score, and that
stretch, plus :data:`DEFAULT_SEPARATION_S` either side, is suppressed before the next pick
(non-maximum suppression); a later moment's stretch never grows into an earlier one's. So k hits
are k different moments, not k neighbouring frames of one.

Inputs are per video — ``(video, frames, times, vectors)`` or already computed curves — so a
library search only has to hand every video's cached vectors in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from clipvi_tui.core.similarity import cosine_matrix
from clipvi_tui.core.views import apply_view

# Around a picked moment, this much more time is suppressed on each side, so the shoulder of
# a moment (its ramp below the half-height level) is not returned as another moment.
DEFAULT_SEPARATION_S = 1.0


@dataclass(frozen=True)
class VideoCurve:
    """One video's curve for a query: ``scores[i]`` at raw frame ``frames[i]``, ``times[i]`` s."""

    video: str
    frames: np.ndarray
    times: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class VideoVectors:
    """One video's frame vectors (NaN rows where not embedded), for building curves."""

    video: str
    frames: np.ndarray
    times: np.ndarray
    vectors: np.ndarray

    def curve(self, query: np.ndarray) -> VideoCurve:
        """Cosine of every frame with the ``[D]`` query vector."""
        scores = cosine_matrix(self.vectors, np.asarray(query, dtype=np.float32)[None, :])
        return VideoCurve(self.video, self.frames, self.times, scores[:, 0].astype(np.float64))


@dataclass(frozen=True)
class Hit:
    """One moment: its best frame and score, and the stretch ``start_s`` … ``end_s`` it spans."""

    video: str
    frame: int
    time_s: float
    start_s: float
    end_s: float
    score: float
    position: int

    def to_dict(self) -> dict[str, object]:
        """The exported fields (the curve position left out)."""
        d = asdict(self)
        d.pop("position")
        return d


def moments(curve: VideoCurve, k: int, separation_s: float = DEFAULT_SEPARATION_S) -> list[Hit]:
    """The ``k`` best moments of one curve, best first, by greedy non-maximum suppression.

    Args:
        curve: the video's curve (NaN where not embedded; such frames are never hits and end a
            moment's stretch).
        k: how many moments at most.
        separation_s: extra time suppressed on each side of a picked moment.

    Returns:
        Up to ``k`` hits; fewer when the curve has fewer distinct moments.
    """
    v = np.asarray(curve.scores, dtype=np.float64)
    t = np.asarray(curve.times, dtype=np.float64)
    free = np.isfinite(v)
    if k <= 0 or not free.any():
        return []
    typical = float(np.median(v[free]))
    # A moment's stretch may grow over finite frames no earlier moment has claimed.
    open_ = free.copy()
    hits: list[Hit] = []
    while len(hits) < k and free.any():
        i = int(np.argmax(np.where(free, v, -np.inf)))
        level = (v[i] + typical) / 2
        a = i
        while a > 0 and open_[a - 1] and v[a - 1] >= level:
            a -= 1
        b = i
        while b < len(v) - 1 and open_[b + 1] and v[b + 1] >= level:
            b += 1
        open_[a : b + 1] = False
        frame = int(curve.frames[i])
        hits.append(Hit(curve.video, frame, float(t[i]), float(t[a]), float(t[b]), float(v[i]), i))
        lo = np.searchsorted(t, t[a] - separation_s, side="left")
        hi = np.searchsorted(t, t[b] + separation_s, side="right")
        free[lo:hi] = False
    return hits


def search(
    curves: Iterable[VideoCurve], k: int, separation_s: float = DEFAULT_SEPARATION_S
) -> list[Hit]:
    """The ``k`` best moments across all ``curves``, best first.

    Each video contributes at most ``k`` moments; ties keep the videos' order, then time.
    """
    found: list[Hit] = []
    for curve in curves:
        found.extend(moments(curve, k, separation_s))
    found.sort(key=lambda h: -h.score)  # stable: equal scores keep their order
    return found[:k]


def search_vectors(
    videos: Sequence[VideoVectors],
    query: np.ndarray,
    k: int,
    separation_s: float = DEFAULT_SEPARATION_S,
) -> list[Hit]:
    """:func:`search` with raw cosine curves built from each video's vectors and ``query``."""
    return search((v.curve(query) for v in videos), k, separation_s)


def query_curve(video: VideoVectors, queries: np.ndarray, view: str) -> VideoCurve:
    """The query's curve in ``view`` (:mod:`clipvi_tui.core.views`).

    Args:
        video: the video's frame vectors.
        queries: ``[Q, D]``: row 0 is the query; for ``softmax`` the other rows are the prompts
            it competes with, for ``baseline`` the baseline prompts (unused by the other views).
        view: ``raw``, ``zscore``, ``softmax`` or ``baseline``.
    """
    raw = cosine_matrix(video.vectors, queries).astype(np.float64)
    if view == "baseline":
        viewed = apply_view(view, raw[:, :1], raw[:, 1:])
    elif view == "softmax":
        viewed = apply_view(view, raw)
    else:
        viewed = apply_view(view, raw[:, :1])
    return VideoCurve(video.video, video.frames, video.times, viewed[:, 0])


def frame_vector(vectors: np.ndarray, times: np.ndarray, seconds: float) -> tuple[int, np.ndarray]:
    """The embedded frame nearest to ``seconds`` and its vector ("more like this frame").

    Args:
        vectors: ``[N, D]`` frame vectors, NaN rows where not embedded.
        times: ``[N]`` seconds.
        seconds: where the user points.

    Returns:
        ``(position, vector)``.

    Raises:
        ValueError: if no frame is embedded.
    """
    v = np.asarray(vectors)
    ok = np.flatnonzero(~np.isnan(v).any(axis=1)) if v.size else np.zeros(0, dtype=np.int64)
    if ok.size == 0:
        raise ValueError("no frame of this video is embedded yet")
    t = np.asarray(times, dtype=np.float64)[ok]
    pos = int(ok[int(np.argmin(np.abs(t - seconds)))])
    return pos, np.asarray(v[pos], dtype=np.float32)
