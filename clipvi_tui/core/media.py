"""PyAV plumbing shared by the frame index and the reader: opening, errors, rotation, skipping.

Every FFmpeg failure becomes a :class:`VideoError` with one line a user can act on, and FFmpeg
never writes to the terminal: PyAV's log bridge stays off (FFmpeg's own default would print
"moov atom not found" and friends on stderr, which lands in the middle of the TUI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import av.logging
import numpy as np

# PyAV 14 starts with FFmpeg logging off; say so explicitly so an upgrade cannot turn it on.
av.logging.set_level(None)

# H.264 NAL unit types of coded slices (non-IDR and IDR).
_H264_SLICES = (1, 5)


class VideoError(Exception):
    """The video cannot be opened or read; ``str()`` is a one-line message."""


def describe(exc: BaseException) -> str:
    """FFmpeg's reason for ``exc`` without the errno and path decorations PyAV adds."""
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


@contextmanager
def ffmpeg_errors(path: Path, doing: str) -> Iterator[None]:
    """Turn PyAV/FFmpeg exceptions raised inside the block into one-line VideoErrors."""
    try:
        yield
    except VideoError:
        raise
    except (av.FFmpegError, OSError, EOFError, ValueError, MemoryError) as exc:
        raise VideoError(f"cannot {doing} {path}: {describe(exc)}") from None


def open_video_stream(path: str | os.PathLike[str], *, threads: bool = True) -> tuple[Any, Any]:
    """Open ``path`` and return ``(container, stream)`` for its first video stream.

    Args:
        path: the file.
        threads: decode with FFmpeg's frame and slice threads (a seek then waits for a few
            extra frames, but decoding runs ≈1.5–2× faster on 2 cores).

    Raises:
        VideoError: missing file, a directory, not a media file, or no video stream.
    """
    p = Path(path)
    if p.is_dir():
        raise VideoError(f"not a video file but a directory: {p}")
    if not p.exists():
        raise VideoError(f"video not found: {p}")
    if p.stat().st_size == 0:
        raise VideoError(f"video file is empty (0 bytes): {p}")
    with ffmpeg_errors(p, "open video"):
        container = av.open(str(p), "r")
    try:
        if not container.streams.video:
            raise VideoError(f"no video stream in {p} (audio or data only?)")
        stream = container.streams.video[0]
        if stream.codec_context is None or not stream.codec_context.name:
            raise VideoError(f"no decoder for the video stream of {p}")
        if threads:
            stream.thread_type = "AUTO"
        return container, stream
    except BaseException:
        container.close()
        raise


def rotation_of(frame: Any) -> int:
    """Clockwise degrees (0/90/180/270) to turn ``frame`` to show it upright.

    PyAV reports the display matrix's rotation counter-clockwise; phones store portrait video as
    landscape pictures with a -90° (i.e. 90° clockwise) matrix.
    """
    try:
        ccw = round(float(frame.rotation))
    except (AttributeError, TypeError, ValueError):
        return 0
    return (-ccw) % 360 // 90 * 90


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded picture by ``rotation`` clockwise degrees (a C-contiguous copy if turned)."""
    turns = (rotation // 90) % 4
    if not turns:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-turns))


def nal_length_size(extradata: bytes | None) -> int | None:
    """NAL length prefix size of an AVCC (mp4/mkv) H.264 stream; None for Annex B (start codes)."""
    if extradata and len(extradata) >= 5 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    return None


def h264_disposable(data: bytes | memoryview, length_size: int | None) -> bool:
    """True when an H.264 packet holds a picture no other picture references (nal_ref_idc 0).

    Such a packet can be left out of decoding without changing any other frame (FFmpeg's
    ``skip_frame=nonref`` does the same inside the decoder). Unknown layouts answer False.
    """
    buf = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
    if length_size is None:
        return _annexb_disposable(bytes(buf[:4096]))
    i, end = 0, len(buf)
    while i + length_size < end:
        size = int.from_bytes(buf[i : i + length_size], "big")
        header = buf[i + length_size]
        if header & 0x1F in _H264_SLICES:
            return (header >> 5) & 3 == 0
        if size <= 0:
            return False
        i += length_size + size
    return False


def _annexb_disposable(buf: bytes) -> bool:
    i = buf.find(b"\x00\x00\x01")
    while 0 <= i < len(buf) - 3:
        header = buf[i + 3]
        if header & 0x1F in _H264_SLICES:
            return (header >> 5) & 3 == 0
        i = buf.find(b"\x00\x00\x01", i + 3)
    return False
