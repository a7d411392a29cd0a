"""What the player and the CLI know about a video: every frame's time, sampling, cache key.

Frame ``k`` is the k-th frame in presentation order and its time is its presentation timestamp,
both from the video's :class:`~clipvi_tui.core.frameindex.FrameIndex` (one demux pass, kept in
the cache). Sampling only chooses which frames get embedded, so a vector cached for frame k stays
valid whatever sampling rate asked for it later.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from clipvi_tui.core.frameindex import FrameIndex, FrameIndexError, scan_video
from clipvi_tui.core.media import VideoError

__all__ = [
    "FrameIndex",
    "IndexStore",
    "VideoError",
    "VideoInfo",
    "fingerprint",
    "parse_sample_fps",
    "probe",
    "sample_indices",
]

# Size of the blocks read from the head and tail of the file for the fingerprint.
FINGERPRINT_BLOCK = 1 << 20


class IndexStore(Protocol):
    """Where frame indices are kept between runs (the embedding cache implements it)."""

    def get_frame_index(self, key: str) -> bytes | None:
        """The stored index blob for a file key, or None."""
        ...

    def put_frame_index(self, key: str, blob: bytes) -> None:
        """Store an index blob under a file key."""
        ...


@dataclass(frozen=True)
class VideoInfo:
    """What we know about a video: size, nominal rate and, from its index, every frame's time.

    A VideoInfo built by hand (tests) without ``index`` behaves like a constant-rate video.

    Attributes:
        path: the file.
        fps: the nominal (average) frame rate; timing never derives from it when there is an index.
        frame_count: frames in presentation order.
        width: width as shown (after rotation).
        height: height as shown (after rotation).
        index: the frame index (timestamps, keyframes, rotation).
        fingerprint: the cache key of the video's content, when probed.
    """

    path: Path
    fps: float
    frame_count: int
    width: int
    height: int
    index: FrameIndex | None = field(default=None, compare=False, repr=False)
    fingerprint: str | None = field(default=None, compare=False)

    @functools.cached_property
    def times(self) -> np.ndarray:
        """Each frame's presentation time in seconds from the first frame (float64)."""
        if self.index is not None:
            return self.index.times
        if self.fps <= 0:
            return np.zeros(self.frame_count, dtype=np.float64)
        return np.arange(self.frame_count, dtype=np.float64) / self.fps

    @property
    def duration(self) -> float:
        """Length of the video in seconds (up to the end of the last frame)."""
        if self.index is not None:
            return self.index.duration
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    @property
    def rotation(self) -> int:
        """Clockwise degrees the decoded pictures are turned by to show them upright."""
        return self.index.rotation if self.index is not None else 0

    @property
    def fingerprint_meta(self) -> str:
        """The metadata part of the fingerprint (stable across versions of this program)."""
        if self.index is not None:
            return self.index.fingerprint_meta
        return f"{self.frame_count};{self.fps:.6f};{self.width}x{self.height}"

    def time_of(self, frame: int) -> float:
        """Seconds from the start at which frame ``frame`` is shown (clamped to the video)."""
        if self.frame_count <= 0:
            return 0.0
        return float(self.times[max(0, min(self.frame_count - 1, int(frame)))])

    def times_of(self, frames: np.ndarray) -> np.ndarray:
        """Seconds from the start at which each frame in ``frames`` is shown (float64)."""
        f = np.asarray(frames, dtype=np.int64)
        if self.frame_count <= 0:
            return np.zeros(f.shape, dtype=np.float64)
        return self.times[np.clip(f, 0, self.frame_count - 1)]

    def frame_at(self, seconds: float) -> int:
        """The frame on screen at ``seconds`` (the last one starting at or before it), clamped."""
        if self.frame_count <= 0:
            return 0
        k = int(np.searchsorted(self.times, seconds + 1e-6, side="right")) - 1
        return max(0, min(self.frame_count - 1, k))


def parse_sample_fps(value: str | float | None) -> float | None:
    """Parse a sampling rate: a positive number of frames per second, or ``all``/None.

    Returns:
        The rate in frames per second, or None meaning every frame.

    Raises:
        ValueError: if the value is neither ``all`` nor a positive number.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "every", "0", ""):
            return None
        try:
            rate = float(text)
        except ValueError:
            raise ValueError(f"sample_fps must be a number or 'all', not {value!r}") from None
    else:
        rate = float(value)
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"sample_fps must be a positive number or 'all', not {value!r}")
    return rate or None


def sample_indices(info: VideoInfo, sample_fps: float | None) -> np.ndarray:
    """The frames a sampling rate selects, by time: ascending and unique.

    A rate at or above the video's nominal fps selects every frame. Otherwise the frame nearest
    in time to each of t = 0, 1/rate, 2/rate, … is taken, so samples stay evenly spaced in time
    on variable-frame-rate video too (in a 10 fps stretch of a 30 fps video, 5 fps takes every
    other frame). On constant-rate video this is frame ``round(t × fps)``, exactly what earlier
    versions picked, so their cached vectors are reused.
    """
    n = info.frame_count
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if sample_fps is None or info.fps <= 0 or sample_fps >= info.fps:
        return np.arange(n, dtype=np.int64)
    times = info.times
    step = info.fps / sample_fps
    if np.allclose(times, np.arange(n) / info.fps, rtol=0, atol=0.25 / info.fps):
        # Constant rate: frame round(k × step), computed exactly as earlier versions did (the
        # float rounding of exact halves included), so their cached vectors are all reused.
        picks = np.round(np.arange(0, n, step)).astype(np.int64)
        return np.unique(picks[picks < n])
    # Variable rate: the frame nearest in time to each wanted time; past the last frame's start
    # the position runs on along the last frame's duration.
    wanted = np.arange(0.0, info.duration, 1.0 / sample_fps)
    pos = np.interp(wanted, times, np.arange(n, dtype=np.float64))
    last_step = info.duration - times[-1]
    beyond = wanted > times[-1]
    if last_step > 0:
        pos[beyond] = (n - 1) + (wanted[beyond] - times[-1]) / last_step
    picks = np.round(pos).astype(np.int64)
    return np.unique(picks[(picks >= 0) & (picks < n)])


def _hash_of_blocks(path: Path) -> hashlib._Hash:
    """SHA-256 over the size and the first and last megabyte of ``path`` (the fingerprint's
    content part; the metadata is added by the caller)."""
    size = path.stat().st_size
    h = hashlib.sha256()
    h.update(f"size={size};".encode())
    with path.open("rb") as fh:
        h.update(fh.read(FINGERPRINT_BLOCK))
        if size > FINGERPRINT_BLOCK:
            fh.seek(max(FINGERPRINT_BLOCK, size - FINGERPRINT_BLOCK))
            h.update(fh.read(FINGERPRINT_BLOCK))
    return h


def fingerprint(path: str | os.PathLike[str], info: VideoInfo | None = None) -> str:
    """A content key for the cache: same bytes give the same key, whatever the file is called.

    Hashes the file size, its first and last megabyte and the metadata (frame count, fps, size
    as OpenCV reported them, reproduced from the header so keys written by earlier versions
    still match). Reading the whole file would be exact but costs seconds on long videos; an
    edit almost always changes the size, the container header or the tail index.
    """
    if info is not None and info.fingerprint is not None and Path(path) == info.path:
        return info.fingerprint
    h = _hash_of_blocks(Path(path))
    if info is not None:
        h.update(info.fingerprint_meta.encode())
    return h.hexdigest()[:32]


def probe(path: str | os.PathLike[str], store: IndexStore | None = None) -> VideoInfo:
    """Read a video's metadata and frame index (from ``store`` when it has it).

    With a store, an index built once is found again by the file's content (size, first and
    last megabyte), so a cached video is probed without opening it with FFmpeg at all.

    Raises:
        VideoError: if the file is missing, not a video, or no frame of it decodes.
    """
    p = Path(path)
    if p.is_dir():
        raise VideoError(f"not a video file but a directory: {p}")
    if not p.is_file():
        raise VideoError(f"video not found: {p}")
    try:
        blocks = _hash_of_blocks(p)
    except OSError as exc:
        raise VideoError(f"cannot read video {p}: {exc.strerror or exc}") from None
    key = "file:" + blocks.copy().hexdigest()[:32]
    index: FrameIndex | None = None
    if store is not None:
        blob = store.get_frame_index(key)
        if blob is not None:
            try:
                index = FrameIndex.from_bytes(blob)
            except FrameIndexError:
                index = None  # an older format: rebuilt below and overwritten
    if index is None:
        index = scan_video(p)
        if store is not None:
            store.put_frame_index(key, index.to_bytes())
    blocks.update(index.fingerprint_meta.encode())
    return VideoInfo(
        path=p,
        fps=index.avg_fps,
        frame_count=index.frame_count,
        width=index.width,
        height=index.height,
        index=index,
        fingerprint=blocks.hexdigest()[:32],
    )
