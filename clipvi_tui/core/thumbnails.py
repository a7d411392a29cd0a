"""Small thumbnails of sampled frames, kept in the cache so that a seek shows a picture at once.

A seek in long-GOP video decodes from the keyframe before the target: up to 250 frames, ≈0.3 s
in 720p and seconds in 4K. The player shows the thumbnail of the sampled frame nearest the
target first (a few milliseconds: one LMDB get and a tiny JPEG decode), then the exact frame
when it is decoded. The indexer makes a thumbnail of every frame it embeds from the picture it
has decoded anyway; :func:`fill_thumbnails` makes the ones a video indexed elsewhere (the CLI)
lacks, from the playhead on.

Size: :data:`THUMB_SHORT` pixels on the short side, JPEG quality :data:`THUMB_QUALITY` — about
3 KB, so an hour at 5 fps (18k frames) takes ≈55 MB.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from clipvi_tui.core.media import upright
from clipvi_tui.core.video import VideoInfo, VideoReader

# Short side of a thumbnail in pixels: a 120×40 terminal's half-block video box is ≈70×54
# pixels; kitty/Sixel boxes are larger, but the thumbnail only shows until the exact frame comes.
THUMB_SHORT = 108
THUMB_QUALITY = 80
# Thumbnails written per transaction by fill_thumbnails.
_BATCH = 32


class ThumbnailStore(Protocol):
    """Where thumbnails live (the embedding cache implements it)."""

    def put_thumbnails(self, fingerprint: str, indices: Any, jpegs: Any) -> None:
        """Store JPEGs for frame indices."""
        ...

    def thumbnail_indices(self, fingerprint: str) -> np.ndarray:
        """Frames that have a thumbnail."""
        ...


def thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """Width and height of a thumbnail for a picture of ``width`` × ``height`` (as shown)."""
    scale = THUMB_SHORT / max(1, min(width, height))
    if scale >= 1:
        return width, height
    return max(2, round(width * scale)), max(2, round(height * scale))


def make_thumbnail(frame: Any, rotation: int) -> bytes:
    """A JPEG thumbnail of a decoded PyAV frame, upright (one swscale pass from YUV)."""
    w, h = frame.width, frame.height
    tw, th = thumbnail_size(w, h)
    small = frame.to_ndarray(width=tw, height=th, format="bgr24", interpolation="AREA")
    ok, jpeg = cv2.imencode(
        ".jpg", upright(small, rotation), [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY]
    )
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR picture
        raise ValueError("JPEG encoding failed")
    return jpeg.tobytes()


def decode_thumbnail(blob: bytes) -> np.ndarray | None:
    """A stored thumbnail as an RGB array (None if it does not decode)."""
    bgr = cv2.imdecode(np.frombuffer(blob, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def fill_thumbnails(
    info: VideoInfo,
    store: ThumbnailStore,
    sampled: np.ndarray,
    start_frame: int,
    cancelled: Callable[[], bool] | threading.Event,
) -> int:
    """Make the thumbnails of ``sampled`` frames that have none, from ``start_frame`` on, then
    from the start. Decodes only as far as those frames need.

    Returns:
        How many thumbnails were made.

    Raises:
        VideoError: if the video cannot be decoded.
    """
    stop = cancelled.is_set if isinstance(cancelled, threading.Event) else cancelled
    fp = info.fingerprint or ""
    have = store.thumbnail_indices(fp)
    todo = np.setdiff1d(np.asarray(sampled, dtype=np.int64), have)
    if not len(todo):
        return 0
    ahead = todo[todo >= start_frame]
    behind = todo[todo < start_frame]
    made = 0
    with VideoReader(info.path, info) as reader:
        for part in (ahead, behind):
            for a in range(0, len(part), _BATCH):
                if stop():
                    return made
                chunk = [int(k) for k in part[a : a + _BATCH]]
                jpegs = [blob for _, blob in reader.iter_frames(chunk, make_thumbnail)]
                store.put_thumbnails(fp, chunk, jpegs)
                made += len(chunk)
    return made
