"""Decode-and-shrink for the video view: exact frames, small-frame cache, previews, prefetch.

Runs on the player's decoder thread (never the UI thread). Frames are converted straight from
the decoder's YUV to the few hundred RGB pixels the view shows, in one swscale pass (≈0.5 ms at
720p; a 4K frame is never turned into a full-size RGB array). The shrunk pictures of recently
decoded frames are kept (a byte-bounded LRU) for stepping back and forth and for playback frames
decoded ahead of time.

A seek that would decode a long way (a backward jump, or forward past a keyframe into a long
GOP) first gets a *preview*: the cached thumbnail of the sampled frame nearest the target
(:mod:`clipvi_tui.core.thumbnails`), shown within milliseconds, then the exact frame.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from clipvi_tui.core.thumbnails import decode_thumbnail
from clipvi_tui.core.video import VideoInfo, VideoReader, probe, scaled_rgb
from clipvi_tui.player.frames import DecodedFrame, FrameRequest
from clipvi_tui.player.geometry import FrameGeometry, fit_frame

# Shrunk pictures kept for stepping and playback (a 120×40 terminal's box is ≈96×54 pixels,
# 11 KB; a kitty box of 800×450 is 1 MB).
SMALL_CACHE_BYTES = 16 << 20
# Prepared images (what the widget takes) kept for the last frames shown and the ones prefetched
# while playing (more than PREFETCH_FRAMES).
PREPARED_CACHE = 16
# A read that decodes more frames than this gets a preview first (≈10–20 ms of decoding at
# 720p; every frame of a 4K seek costs ≈10 ms).
PREVIEW_ABOVE_FRAMES = 8
# From this width on the display decodes without deblocking whatever the mode (4K).
FAST_DECODE_WIDTH = 3000
# A thumbnail further than this from the target (seconds) would mislead more than it helps.
PREVIEW_MAX_GAP_S = 1.0

Thumbnails = Callable[[int], bytes | None]


class FrameRenderer:
    """Decodes and shrinks frames for one graphics mode (use from a single thread)."""

    def __init__(
        self,
        video: Path,
        mode: str,
        cell_px: tuple[int, int],
        prepare: Callable[[np.ndarray], Any],
        *,
        info: VideoInfo | None = None,
        sampled: np.ndarray | None = None,
        thumbnail: Thumbnails | None = None,
        fast_decode: bool = False,
    ) -> None:
        """Open the video.

        Args:
            video: the file.
            mode: graphics mode (decides the pixel size per cell).
            cell_px: cell size in the mode's units.
            prepare: turns the scaled RGB frame into what the view paints (runs here, on the
                decoder thread, so the UI thread only swaps it in).
            info: the probed video (its frame index); probed again when missing.
            sampled: the sampled frames (the ones that may have thumbnails), ascending.
            thumbnail: looks up a sampled frame's stored JPEG thumbnail (None: no previews).
            fast_decode: decode without the deblocking filter (for small, text-mode views).

        Raises:
            VideoError: if it cannot be opened.
        """
        self.mode = mode
        self.cell_px = cell_px
        self.prepare = prepare
        # One thread: the view needs one frame at a time, FFmpeg's frame threads would add a
        # few frames of latency and ≈15% CPU, and the decoder's CPU stays on this named thread.
        info = info if info is not None and info.index is not None else probe(video)
        # Without deblocking when asked (text modes: a few hundred pixels, the filter's work
        # does not show) and for 4K in any mode, where decoding is the display's biggest cost.
        fast = fast_decode or info.width >= FAST_DECODE_WIDTH
        self._reader = VideoReader(video, info, threads=False, for_display=fast)
        self.info = self._reader.info
        self._sampled = np.asarray(sampled if sampled is not None else [], dtype=np.int64)
        self._thumbnail = thumbnail
        self._small: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._small_bytes = 0
        self._prepared: OrderedDict[tuple[int, int, int], Any] = OrderedDict()

    def close(self) -> None:
        """Release the decoder."""
        self._reader.close()

    def __enter__(self) -> FrameRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- geometry ------------------------------------------------------------------------------

    def geometry(self, req: FrameRequest) -> FrameGeometry:
        """Where ``req``'s frame goes in its cell box."""
        info = self.info
        return fit_frame(self.mode, info.width, info.height, req.cols, req.rows, self.cell_px)

    # -- reads -------------------------------------------------------------------------------

    def render(
        self, req: FrameRequest, interrupt: Callable[[], bool] | None = None
    ) -> DecodedFrame:
        """The exact frame ``req.frame``, scaled to its cell box.

        Raises:
            VideoError: if the frame cannot be decoded.
            DecodeInterrupted: if ``interrupt()`` turned true on the way (a newer seek).
        """
        started = time.perf_counter()
        geo = self.geometry(req)
        key = (req.frame, geo.pixels_w, geo.pixels_h)
        image = self._prepared.get(key)
        if image is None:
            image = self.prepare(self._small_frame(req.frame, geo, interrupt))
            self._remember_prepared(key, image)
        else:
            self._prepared.move_to_end(key)
        return DecodedFrame(req, image, geo, time.perf_counter() - started)

    def expensive(self, req: FrameRequest) -> bool:
        """True when the exact frame is neither cached nor a few decodes away."""
        geo = self.geometry(req)
        if (req.frame, geo.pixels_w, geo.pixels_h) in self._small:
            return False
        return self._reader.cost_of(req.frame) > PREVIEW_ABOVE_FRAMES

    def preview(self, req: FrameRequest) -> DecodedFrame | None:
        """A stand-in for an expensive frame: the thumbnail of the nearest sampled frame.

        None when there is none close enough in time (not indexed there yet).
        """
        if self._thumbnail is None or not len(self._sampled):
            return None
        started = time.perf_counter()
        target = self.info.time_of(req.frame)
        pos = int(np.searchsorted(self._sampled, req.frame))
        candidates = [p for p in (pos - 1, pos) if 0 <= p < len(self._sampled)]
        candidates.sort(key=lambda p: abs(self.info.time_of(int(self._sampled[p])) - target))
        for p in candidates:
            frame = int(self._sampled[p])
            if abs(self.info.time_of(frame) - target) > PREVIEW_MAX_GAP_S:
                break
            blob = self._thumbnail(frame)
            rgb = decode_thumbnail(blob) if blob else None
            if rgb is None:
                continue
            geo = self.geometry(req)
            scaled = _resize(rgb, geo.pixels_w, geo.pixels_h)
            return DecodedFrame(req, self.prepare(scaled), geo, time.perf_counter() - started)
        return None

    def prefetch(self, req: FrameRequest, interrupt: Callable[[], bool]) -> None:
        """Decode and shrink ``req``'s frame into the small-frame cache (playback ahead).

        Raises:
            VideoError: if the frame cannot be decoded.
            DecodeInterrupted: if ``interrupt()`` turned true.
        """
        if not 0 <= req.frame < self.info.frame_count:
            return
        geo = self.geometry(req)
        key = (req.frame, geo.pixels_w, geo.pixels_h)
        if key not in self._prepared:
            # Prepared too (the half-block lines cost ≈2 ms), so the frame is ready to post.
            self._remember_prepared(key, self.prepare(self._small_frame(req.frame, geo, interrupt)))

    # -- caches --------------------------------------------------------------------------------

    def _small_frame(
        self, frame: int, geo: FrameGeometry, interrupt: Callable[[], bool] | None
    ) -> np.ndarray:
        key = (frame, geo.pixels_w, geo.pixels_h)
        hit = self._small.get(key)
        if hit is not None:
            self._small.move_to_end(key)
            return hit
        rgb = self._reader.read_as(frame, scaled_rgb(geo.pixels_w, geo.pixels_h), interrupt)
        self._small[key] = rgb
        self._small_bytes += rgb.nbytes
        while self._small_bytes > SMALL_CACHE_BYTES and len(self._small) > 1:
            _, old = self._small.popitem(last=False)
            self._small_bytes -= old.nbytes
        return rgb

    def _remember_prepared(self, key: tuple[int, int, int], image: Any) -> None:
        self._prepared[key] = image
        while len(self._prepared) > PREPARED_CACHE:
            self._prepared.popitem(last=False)


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale a thumbnail to the view's pixel size (area when shrinking, linear when growing)."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    shrink = width * height < w * h
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(rgb, (max(1, width), max(1, height)), interpolation=interp)
