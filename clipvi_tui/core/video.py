"""Video access: exact reads by timestamp, and the conversions the reader's callers use.

:class:`VideoReader` seeks by timestamp: it jumps to the keyframe at or before the wanted frame
and decodes forward (never a seek when the frame is ahead in the same GOP), decodes with FFmpeg's
threads, converts only the frames asked for, and turns pictures upright per the rotation
metadata. Packets of H.264 pictures nothing references are not decoded at all when the frames
in between are not wanted (≈ 45% of a B-frame stream).

What is known about a video without decoding it (:class:`VideoInfo`: every frame's time, the
sampling, the cache fingerprint) lives in :mod:`clipvi_tui.core.videoinfo` and is re-exported
here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from clipvi_tui.core.media import (
    VideoError,
    ffmpeg_errors,
    h264_disposable,
    nal_length_size,
    open_video_stream,
    upright,
)
from clipvi_tui.core.videoinfo import (
    FrameIndex,
    IndexStore,
    VideoInfo,
    fingerprint,
    parse_sample_fps,
    probe,
    sample_indices,
)

__all__ = [
    "DecodeInterrupted",
    "FrameIndex",
    "IndexStore",
    "VideoError",
    "VideoInfo",
    "VideoReader",
    "centre_square",
    "downscale",
    "fingerprint",
    "parse_sample_fps",
    "probe",
    "sample_indices",
    "scaled_rgb",
    "shrink_area",
    "to_bgr",
]

T = TypeVar("T")

# OpenCV's own thread pool fights the decoder threads and the server for 2 cores; one thread
# makes INTER_AREA cheaper in CPU time (measured: 2.1 ms instead of 2.8 ms per 720p frame).
cv2.setNumThreads(1)

# A display conversion first decimates big pictures to this many times the view's size.
DISPLAY_OVERSAMPLE = 8


class DecodeInterrupted(Exception):
    """A read was given up because its ``interrupt`` callable said so (a newer request came)."""


# -- conversions (run on the reader's thread) -------------------------------------------------


def to_bgr(frame: Any, rotation: int = 0) -> np.ndarray:
    """A decoded PyAV frame as an upright full-size BGR array (what OpenCV's ``read`` gave)."""
    return upright(frame.to_ndarray(format="bgr24"), rotation)


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


def shrink_area(frame: np.ndarray, short_side: int) -> np.ndarray:
    """Like :func:`downscale` (area-averaged, short side to ``short_side``), but cheaper for big
    reductions: exact 2×2 box halvings (OpenCV's fast path) while the picture is at least twice
    the target, then one INTER_AREA step.

    A 720×720 crop to 224: 0.6 ms instead of 1.2 ms; the pixels differ from one INTER_AREA step
    by about one level on average (a JPEG encoding at quality 95 changes them by more).
    """
    h, w = frame.shape[:2]
    while min(h, w) >= 2 * short_side and h % 2 == 0 and w % 2 == 0:
        frame = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        h, w = frame.shape[:2]
    return downscale(frame, short_side)


def centre_square(frame: np.ndarray) -> np.ndarray:
    """The centre square of ``frame``, cut where CLIP's CenterCrop cuts it.

    torchvision's CenterCrop (which the Inference server applies after resizing the short side)
    starts at ``round((long - short) / 2)``; cutting there before upload leaves the server's
    resize and crop nothing to do, so the model sees the same pixels while 44% fewer of a 16:9
    frame are JPEG-encoded, sent and decoded.
    """
    h, w = frame.shape[:2]
    if h == w:
        return frame
    side = min(h, w)
    top, left = round((h - side) / 2.0), round((w - side) / 2.0)
    return frame[top : top + side, left : left + side]


def scaled_rgb(width: int, height: int) -> Callable[[Any, int], np.ndarray]:
    """A conversion for display: RGB at ``width`` × ``height`` (as shown), from YUV in swscale.

    Converting and shrinking in one step from YUV touches the big picture once (≈0.5 ms for
    720p instead of 2.5 ms for BGR + INTER_AREA). For big reductions (4K to a terminal's hundred
    pixels) an area filter over every source pixel still costs 3.5 ms, so the picture is first
    decimated to :data:`DISPLAY_OVERSAMPLE` × the target with swscale's fast bilinear (in YUV)
    and area-averaged from there: 1.2 ms, within ≈3 levels of the one-step result.
    """

    def convert(frame: Any, rotation: int) -> np.ndarray:
        w, h = (height, width) if rotation % 180 else (width, height)
        w, h = max(1, w), max(1, h)
        big_w = DISPLAY_OVERSAMPLE * w
        if frame.width > big_w and frame.height > DISPLAY_OVERSAMPLE * h:
            big_h = DISPLAY_OVERSAMPLE * h
            frame = frame.reformat(
                width=big_w + big_w % 2, height=big_h + big_h % 2, interpolation="FAST_BILINEAR"
            )
        small = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
        return upright(small, rotation)

    return convert


# -- the reader --------------------------------------------------------------------------------


class VideoReader:
    """Exact random access to one video by presentation timestamp.

    Not thread-safe: give each thread its own reader (they are cheap to open; pass the probed
    :class:`VideoInfo` so the index is not built again).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        info: VideoInfo | None = None,
        *,
        threads: bool = True,
        for_display: bool = False,
    ) -> None:
        """Open ``path``.

        Args:
            path: the video file.
            info: its probed info (with the frame index); probed here when missing.
            threads: decode with FFmpeg's threads.
            for_display: skip the deblocking filter (≈20% less decoding; its effect is invisible
                once the picture is shrunk to a terminal's size). Never for embedding: the
                pixels differ slightly from the true frame.

        Raises:
            VideoError: if the file cannot be opened or decoded.
        """
        self.path = Path(path)
        if info is None or info.index is None:
            info = probe(self.path)
        self.info = info
        index = info.index
        assert index is not None
        self._index = index
        self._pts = index.pts
        self._container, self._stream = open_video_stream(self.path, threads=threads)
        if for_display:
            self._stream.codec_context.options = {"skip_loop_filter": "all"}
        cc = self._stream.codec_context
        self._skippable = cc.name == "h264"
        self._length_size = nal_length_size(bytes(cc.extradata or b"")) if self._skippable else None
        self._packets: Iterator[Any] | None = None
        self._ready: list[Any] = []  # decoded frames not handed out yet (presentation order)
        self._next: int | None = None  # position of the next frame the decoder hands out
        self._dropped: set[int] = set()  # pts of packets left undecoded since the last seek
        self._eof = False
        self.decoded = 0  # frames that came out of the decoder (for benchmarks)

    def close(self) -> None:
        """Release the decoder."""
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public reads ------------------------------------------------------------------------

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` as an upright full-size BGR array.

        Raises:
            VideoError: if the index is out of range or the frame cannot be decoded.
        """
        return to_bgr(self.read_frame(index), self._index.rotation)

    def read_as(
        self,
        index: int,
        convert: Callable[[Any, int], T],
        interrupt: Callable[[], bool] | None = None,
    ) -> T:
        """Frame ``index`` converted by ``convert(frame, rotation)`` (e.g. :func:`scaled_rgb`).

        Raises:
            VideoError: if the index is out of range or the frame cannot be decoded.
            DecodeInterrupted: if ``interrupt()`` turned true while decoding towards it.
        """
        return convert(self.read_frame(index, interrupt), self._index.rotation)

    def read_frame(self, index: int, interrupt: Callable[[], bool] | None = None) -> Any:
        """Frame ``index`` as PyAV decoded it (not converted, not turned).

        Args:
            index: the frame.
            interrupt: polled while decoding towards the frame (a seek may decode a whole GOP);
                when it answers True the read stops with :class:`DecodeInterrupted`.

        Raises:
            VideoError: if the index is out of range or the frame cannot be decoded.
            DecodeInterrupted: see ``interrupt``.
        """
        n = self.info.frame_count
        if not 0 <= index < n:
            raise VideoError(f"frame {index} out of range 0..{n - 1}")
        target = int(self._pts[index])
        with ffmpeg_errors(self.path, "decode video"):
            return self._decode_to(index, lambda pts: pts >= target, interrupt)

    def cost_of(self, index: int) -> int:
        """How many frames reading ``index`` next would decode (0 when it is the next one out).

        Lets a caller decide whether a read is quick (stepping, playback) or a seek through a
        GOP worth covering with a preview first.
        """
        if not self._must_seek(index):
            return index - (self._next or 0)
        return index - self._index.keyframe_before(index) + 1

    def iter_frames(
        self,
        indices: Iterable[int],
        convert: Callable[[Any, int], T] | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, converted frame)`` for ascending ``indices``, decoding forward.

        Frames between the wanted ones are decoded only as far as other frames need them and
        never converted. ``convert`` defaults to :func:`to_bgr`.

        Raises:
            VideoError: if a frame cannot be decoded.
        """
        conv: Callable[[Any, int], Any] = convert or to_bgr
        wanted = sorted({int(k) for k in indices})
        n = self.info.frame_count
        if wanted and not (wanted[0] >= 0 and wanted[-1] < n):
            raise VideoError(f"frames out of range 0..{n - 1}")
        keep = {int(self._pts[k]) for k in wanted}
        last = int(self._pts[wanted[-1]]) if wanted else 0
        for k in wanted:
            with ffmpeg_errors(self.path, "decode video"):
                frame = self._decode_to(k, lambda pts: pts in keep or pts > last)
            yield k, conv(frame, self._index.rotation)

    # -- decoding ------------------------------------------------------------------------------

    def _decode_to(
        self,
        position: int,
        needed: Callable[[int], bool],
        interrupt: Callable[[], bool] | None = None,
    ) -> Any:
        """Decode until the frame at ``position`` comes out; ``needed(pts)`` says which other
        frames must not be skipped (frames the caller will ask for later)."""
        target = int(self._pts[position])
        if self._must_seek(position):
            self._seek(self._index.keyframe_before(position))
        retried = False
        while True:
            if interrupt is not None and interrupt():
                raise DecodeInterrupted(f"stopped before frame {position}")
            frame = self._next_frame(needed)
            if frame is None or (frame.pts is not None and frame.pts > target):
                # The target never came out: the seek landed after it (a keyframe whose
                # leading pictures belong to the previous GOP) or the picture is damaged.
                if retried:
                    raise VideoError(f"cannot decode frame {position} of {self.path}")
                retried = True
                key = self._index.keyframe_before(position)
                self._seek(self._index.keyframe_before(max(0, key - 1)))
                continue
            pos = self._position_of(frame)
            if pos is None:
                continue
            self._next = pos + 1
            if pos == position:
                return frame

    def _must_seek(self, position: int) -> bool:
        """Seek unless the frame is ahead in what the decoder is already working through."""
        if self._next is None or position < self._next:
            return True
        if int(self._pts[position]) in self._dropped:
            return True
        # A keyframe after the decoder's position but not after the target: jumping there
        # skips decoding everything in between.
        return self._index.keyframe_before(position) > self._next

    def _seek(self, key_position: int) -> None:
        # PyAV's seek flushes the decoder; the demuxer lands on the keyframe at or before the
        # timestamp, so decoding forward from there reaches every later frame.
        self._container.seek(
            int(self._pts[key_position]), stream=self._stream, backward=True, any_frame=False
        )
        self._packets = None
        self._ready.clear()
        self._dropped.clear()
        self._next = key_position
        self._eof = False

    def _position_of(self, frame: Any) -> int | None:
        """Where a decoded frame sits in the index (None for a frame the index does not know)."""
        if frame.pts is None:
            return self._next  # no timestamps at all: count frames (synthetic times)
        pos = int(np.searchsorted(self._pts, frame.pts))
        if pos < len(self._pts) and self._pts[pos] == frame.pts:
            return pos
        return None

    def _next_frame(self, needed: Callable[[int], bool]) -> Any | None:
        """The next decoded frame in presentation order, or None at the end of the stream."""
        while not self._ready:
            if self._eof:
                return None
            if self._packets is None:
                self._packets = iter(self._container.demux(self._stream))
            packet = next(self._packets, None)
            if packet is None:
                self._eof = True
                continue
            if packet.is_corrupt or self._skip(packet, needed):
                continue  # corrupt: cut short or damaged, not in the index either
            try:
                self._ready.extend(self._stream.decode(packet))
            except Exception as exc:  # a damaged packet: later ones may decode
                if not _is_data_error(exc):
                    raise
        self.decoded += 1
        return self._ready.pop(0)

    def _skip(self, packet: Any, needed: Callable[[int], bool]) -> bool:
        """Leave out an H.264 picture nobody references and nobody asked for."""
        pts = packet.pts
        if not self._skippable or pts is None or packet.size == 0 or packet.is_keyframe:
            return False
        if needed(int(pts)) or not h264_disposable(memoryview(packet), self._length_size):
            return False
        self._dropped.add(int(pts))
        return True


def _is_data_error(exc: BaseException) -> bool:
    """True for FFmpeg's "invalid data" class of errors (damaged input, not a bug)."""
    import av

    return isinstance(exc, (av.InvalidDataError, av.error.EOFError)) or (
        isinstance(exc, av.FFmpegError) and "invalid" in str(exc).lower()
    )
