"""From a score curve to moments: smoothing in seconds, segments and spikes.

Pure numpy. A curve is aligned with its frames' times (``ScoreTable.times`` or the board's
times: presentation timestamps, never recomputed from a frame rate) and is NaN where a frame is
not embedded yet. Nothing here ever bridges such a gap: smoothing averages only within a run of
embedded frames, segments neither merge nor pad across one, and a change is only measured
between two embedded neighbours.

Thresholds (the ``auto`` rule that can say "no segment") are in :mod:`~clipvi_tui.core.thresholds`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from clipvi_tui.core.views import MAD_TO_SD

# Smallest noise unit: float16 cache vectors give cosines to ≈5e-4, so smaller "jitter" is
# quantisation, and a flat curve with one odd frame must not count as two states (or spikes).
MIN_NOISE = 1e-3

# The spread of changes is never taken below this fraction of a curve's range (see find_spikes).
SPIKE_RANGE_FRACTION = 0.01


# -- runs ---------------------------------------------------------------------------------------


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as ``(start, end_inclusive)`` positions."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _run_bounds(finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every position, the first and last position of its run of finite values."""
    n = len(finite)
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    for a, b in true_runs(finite):
        first[a : b + 1] = a
        last[a : b + 1] = b
    return first, last


# -- smoothing ----------------------------------------------------------------------------------


def smooth(values: np.ndarray, times: np.ndarray, seconds: float) -> np.ndarray:
    """Centred moving average over a window of ``seconds``, within runs of embedded frames.

    Each value becomes the mean of the values whose times lie within ``seconds / 2`` of its
    own, counting only the frames of its own run of finite values: a frame never borrows from
    across a gap of frames that are not embedded yet, and a gap stays a gap. Windows are in
    seconds, from ``times``, so the same setting means the same on every sampling rate and on
    variable-frame-rate videos.

    Args:
        values: ``[N]`` curve, NaN where not embedded.
        times: ``[N]`` ascending times in seconds.
        seconds: window width; 0 or less returns the curve unchanged.

    Returns:
        ``[N]`` float64.
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if seconds <= 0 or v.size == 0:
        return v.copy()
    if t.shape != v.shape:
        raise ValueError(f"{len(t)} times for {len(v)} values")
    finite = np.isfinite(v)
    first, last = _run_bounds(finite)
    sums = np.concatenate(([0.0], np.cumsum(np.where(finite, v, 0.0))))
    half = seconds / 2
    # A tiny tolerance keeps a frame exactly half a window away inside it despite float error.
    lo = np.maximum(np.searchsorted(t, t - half - 1e-9, side="left"), first)
    hi = np.minimum(np.searchsorted(t, t + half + 1e-9, side="right") - 1, last)
    out = np.full_like(v, np.nan)
    ok = finite & (hi >= lo)
    out[ok] = (sums[hi[ok] + 1] - sums[lo[ok]]) / (hi[ok] - lo[ok] + 1)
    return out


# -- changes --------------------------------------------------------------------------------------


def changes(values: np.ndarray) -> np.ndarray:
    """``[N]`` change from the previous sample; NaN at 0 and wherever either one is missing."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full_like(v, np.nan)
    if v.size > 1:
        out[1:] = v[1:] - v[:-1]
    return out


# -- segments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch of frames at or above a prompt's threshold.

    Frames are raw 0-based frame indices of sampled frames, times their seconds; ``start`` …
    ``end`` and ``peak`` are positions in the curve (inclusive).
    """

    prompt: str
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    peak_frame: int
    peak_s: float
    peak_score: float
    mean_score: float
    start: int
    end: int
    peak: int

    def to_dict(self) -> dict[str, object]:
        """The exported fields, in export order (positions left out)."""
        d = asdict(self)
        for key in ("start", "end", "peak"):
            d.pop(key)
        return d


SEGMENT_FIELDS = (
    "prompt",
    "start_frame",
    "end_frame",
    "start_s",
    "end_s",
    "peak_frame",
    "peak_s",
    "peak_score",
    "mean_score",
)


def _merge_runs(
    runs: list[tuple[int, int]], times: np.ndarray, finite: np.ndarray, max_gap_s: float
) -> list[tuple[int, int]]:
    """Join runs whose gap is at most ``max_gap_s`` of embedded frames."""
    out: list[tuple[int, int]] = []
    for a, b in runs:
        if out:
            pa, pb = out[-1]
            bridge_known = bool(finite[pb + 1 : a].all())
            if bridge_known and times[a] - times[pb] <= max_gap_s + 1e-9:
                out[-1] = (pa, b)
                continue
        out.append((a, b))
    return out


def find_segments(
    prompt: str,
    values: np.ndarray,
    times: np.ndarray,
    frames: np.ndarray,
    threshold: float | None,
    *,
    max_gap_s: float = 0.0,
    min_length_s: float = 0.0,
    pad_s: float = 0.0,
) -> list[Segment]:
    """Frames at or above ``threshold``, merged into segments.

    Runs closer than ``max_gap_s`` are joined (never across frames that are not embedded);
    segments shorter than ``min_length_s`` (first to last frame) are dropped; the rest are
    widened by ``pad_s`` on both sides to the sampled frames that far away, within their run
    of embedded frames and the video, and joined where the padding makes them touch. Segments
    therefore never overlap and always lie inside the video.

    Args:
        prompt: the prompt the curve belongs to (copied into each segment).
        values: ``[N]`` curve, NaN where not embedded.
        times: ``[N]`` ascending seconds.
        frames: ``[N]`` raw frame indices.
        threshold: None gives no segment.
        max_gap_s: longest gap that is bridged.
        min_length_s: shortest segment kept.
        pad_s: padding on each side.

    Returns:
        Segments in time order.
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    f = np.asarray(frames)
    if threshold is None or v.size == 0:
        return []
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore"):
        above = finite & (v >= threshold)
    runs = _merge_runs(true_runs(above), t, finite, max_gap_s)
    runs = [(a, b) for a, b in runs if t[b] - t[a] >= min_length_s - 1e-9]
    if pad_s > 0 and runs:
        first, last = _run_bounds(finite)
        padded: list[tuple[int, int]] = []
        for a, b in runs:
            a2 = max(int(np.searchsorted(t, t[a] - pad_s - 1e-9, side="left")), int(first[a]))
            b2 = min(int(np.searchsorted(t, t[b] + pad_s + 1e-9, side="right")) - 1, int(last[b]))
            if padded and a2 <= padded[-1][1] + 1:
                padded[-1] = (padded[-1][0], b2)
            else:
                padded.append((a2, b2))
        runs = padded
    out = []
    for a, b in runs:
        seg = v[a : b + 1]
        peak = a + int(np.nanargmax(seg))
        out.append(
            Segment(
                prompt=prompt,
                start_frame=int(f[a]),
                end_frame=int(f[b]),
                start_s=float(t[a]),
                end_s=float(t[b]),
                peak_frame=int(f[peak]),
                peak_s=float(t[peak]),
                peak_score=float(v[peak]),
                mean_score=float(np.nanmean(seg)),
                start=a,
                end=b,
                peak=peak,
            )
        )
    return out


# -- spikes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spike:
    """A change between two consecutive embedded samples much larger than the curve's usual.

    ``frame``/``time_s``/``position`` are those of the later sample; ``change`` is signed.
    """

    prompt: str
    frame: int
    time_s: float
    change: float
    position: int


def find_spikes(
    prompt: str, values: np.ndarray, times: np.ndarray, frames: np.ndarray, k: float
) -> list[Spike]:
    """Frame differencing: changes larger than ``k`` robust standard deviations of the change.

    The spread is 1.4826 × the MAD of the changes, so the few big jumps do not hide themselves
    by inflating it; it is at least :data:`SPIKE_RANGE_FRACTION` of the curve's 1–99 % range
    (and :data:`MIN_NOISE`), so a change must be a visible part of the curve's own scale.

    Args:
        prompt: copied into each spike.
        values: ``[N]`` curve, NaN where not embedded.
        times: ``[N]`` seconds.
        frames: ``[N]`` raw frame indices.
        k: how many spreads a change must exceed.

    Returns:
        Spikes in time order.
    """
    d = changes(values)
    ok = np.isfinite(d)
    if not ok.any():
        return []
    center = float(np.median(d[ok]))
    v = np.asarray(values, dtype=np.float64)
    span = float(np.ptp(np.percentile(v[np.isfinite(v)], [1, 99])))
    # A curve that is flat between its steps has a MAD of float16 jitter; the spread is kept at
    # 1 % of the curve's range so that jitter is never called a spike.
    spread = max(
        MAD_TO_SD * float(np.median(np.abs(d[ok] - center))), SPIKE_RANGE_FRACTION * span, MIN_NOISE
    )
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(ok & (np.abs(d - center) > k * spread))
    t = np.asarray(times, dtype=np.float64)
    f = np.asarray(frames)
    return [Spike(prompt, int(f[i]), float(t[i]), float(d[i]), int(i)) for i in hits]
