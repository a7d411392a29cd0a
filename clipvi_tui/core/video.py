"""Video access: metadata, frame-accurate reads, sampling and a content fingerprint.

Everything here works on frame indices of the *raw* video (0 … frame_count-1). Sampling only
chooses which raw indices get embedded, so a vector cached for frame k stays valid whatever
sampling rate asked for it later.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# How far ahead a target may be before a real seek is cheaper than decoding forward.
# Seeking costs 7-12 ms on intra-heavy files and up to 0.5 s on long-GOP 1080p, while grabbing
# (decode without conversion) costs 1-4 ms a frame, so a short run of grabs always wins.
GRAB_FORWARD_LIMIT = 24

# Size of the blocks read from the head and tail of the file for the fingerprint.
FINGERPRINT_BLOCK = 1 << 20


class VideoError(Exception):
    """The video cannot be opened or read."""


@dataclass(frozen=True)
class VideoInfo:
    """What we know about a video file before decoding it."""

    path: Path
    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def duration(self) -> float:
        """Length of the video in seconds."""
        return self.frame_count / self.fps if self.fps > 0 else 0.0

    def time_of(self, frame: int) -> float:
        """Seconds from the start at which raw frame ``frame`` is shown."""
        return frame / self.fps if self.fps > 0 else 0.0

    def times_of(self, frames: np.ndarray) -> np.ndarray:
        """Seconds from the start at which each raw frame in ``frames`` is shown (float64)."""
        f = np.asarray(frames, dtype=np.float64)
        return f / self.fps if self.fps > 0 else np.zeros_like(f)

    def frame_at(self, seconds: float) -> int:
        """The raw frame shown at ``seconds``, clamped to the video."""
        k = math.floor(seconds * self.fps + 1e-6)
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
    """The raw frame indices that a sampling rate selects, ascending and unique.

    A rate at or above the video's own fps selects every frame. Otherwise frame
    ``round(t * fps)`` is taken for t = 0, 1/rate, 2/rate, … so the samples stay evenly spaced in
    time even when fps is not a multiple of the rate (29.97 fps at 5 fps, say).
    """
    n = info.frame_count
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if sample_fps is None or info.fps <= 0 or sample_fps >= info.fps:
        return np.arange(n, dtype=np.int64)
    step = info.fps / sample_fps
    picks = np.round(np.arange(0, n, step)).astype(np.int64)
    picks = picks[picks < n]
    return np.unique(picks)


def fingerprint(path: str | os.PathLike[str], info: VideoInfo | None = None) -> str:
    """A content key for the cache: same bytes give the same key, whatever the file is called.

    Hashes the file size, its first and last megabyte and the decoded metadata. Reading the
    whole file would be exact but costs seconds on long videos; an edit almost always changes
    the size, the container header or the tail index, all of which are covered.
    """
    p = Path(path)
    size = p.stat().st_size
    h = hashlib.sha256()
    h.update(f"size={size};".encode())
    with p.open("rb") as fh:
        h.update(fh.read(FINGERPRINT_BLOCK))
        if size > FINGERPRINT_BLOCK:
            fh.seek(max(FINGERPRINT_BLOCK, size - FINGERPRINT_BLOCK))
            h.update(fh.read(FINGERPRINT_BLOCK))
    if info is not None:
        h.update(f"{info.frame_count};{info.fps:.6f};{info.width}x{info.height}".encode())
    return h.hexdigest()[:32]


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's metadata.

    Raises:
        VideoError: if the file is missing or OpenCV cannot decode it.
    """
    with VideoReader(path) as reader:
        return reader.info


class VideoReader:
    """Frame-accurate random access to one video file.

    Not thread-safe: give each thread its own reader (they are cheap to open).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open ``path``.

        Raises:
            VideoError: if the file is missing or OpenCV cannot decode it.
        """
        p = Path(path)
        if not p.is_file():
            raise VideoError(f"video not found: {p}")
        cap = cv2.VideoCapture(str(p))
        if not cap.isOpened():
            raise VideoError(f"cannot open video (not a format OpenCV reads?): {p}")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if count <= 0 or width <= 0 or height <= 0:
            cap.release()
            raise VideoError(f"video has no readable frames: {p}")
        if not math.isfinite(fps) or fps <= 0:
            fps = 25.0  # some streams carry no rate; 25 is the common container default
        self._cap = cap
        self._next = 0  # index of the frame the next grab() returns
        self.info = VideoInfo(path=p, fps=fps, frame_count=count, width=width, height=height)

    def close(self) -> None:
        """Release the decoder."""
        self._cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, index: int) -> np.ndarray:
        """Decode raw frame ``index`` as a BGR array.

        Decodes forward when the target is a little ahead (cheaper than a seek on long-GOP
        files), seeks otherwise.

        Raises:
            VideoError: if the index is out of range or the frame cannot be decoded.
        """
        if not 0 <= index < self.info.frame_count:
            raise VideoError(f"frame {index} out of range 0..{self.info.frame_count - 1}")
        gap = index - self._next
        if gap < 0 or gap > GRAB_FORWARD_LIMIT:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            self._next = index
        while self._next < index:
            if not self._cap.grab():
                raise VideoError(f"decode failed before frame {index}")
            self._next += 1
        ok, frame = self._cap.read()
        if not ok or frame is None:
            # Container frame counts can overstate the stream; report it instead of guessing.
            raise VideoError(f"cannot decode frame {index}")
        self._next = index + 1
        return frame

    def iter_frames(self, indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for each index, decoding forward where it can."""
        for k in indices:
            yield int(k), self.read(int(k))


def downscale(frame: np.ndarray, short_side: int) -> np.ndarray:
    """Shrink ``frame`` so its short side is ``short_side`` pixels, keeping its aspect ratio.

    INTER_AREA averages the source pixels, which is what a later bicubic resize to the same
    size expects; frames already small enough are returned as they are (never upscaled).
    """
    h, w = frame.shape[:2]
    short = min(h, w)
    if short <= short_side:
        return frame
    scale = short_side / short
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
