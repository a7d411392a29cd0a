"""The exact frame index of a video: every frame's presentation timestamp and the keyframes.

Built once per video by a *demux* pass (PyAV reads packets, decodes nothing: a 2-minute 720p
H.264 file takes ≈20 ms), stored in the cache under the video's fingerprint, and used for every
time in the app and the CLI. Frame ``k`` is the k-th frame in presentation order; its time is
its presentation timestamp (pts) relative to the first frame, never ``k / fps``, so
variable-frame-rate video (phones) gets the right times, and seeks land on the exact frame by
timestamp instead of OpenCV's ``CAP_PROP_POS_FRAMES`` arithmetic.

Why PyAV and not OpenCV for this: OpenCV exposes neither packets nor their timestamps or keyframe
flags (only an average fps and a frame counter), has no demux-only pass (``grab()`` decodes), and
cannot convert a frame straight to a small size. PyAV gives all of these, releases the GIL while
decoding, and decodes with FFmpeg's frame threads.

The index also keeps what the old OpenCV-based probe reported (average fps, container frame
count, display size), computed the way OpenCV computes it: it is part of the cache fingerprint,
so caches written before the index existed stay reachable (``fingerprint_meta``).
"""

from __future__ import annotations

import json
import math
import os
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from clipvi_tui.core.media import (
    VideoError,
    describe,
    ffmpeg_errors,
    open_video_stream,
    rotation_of,
)

# Bumped when the stored layout or what it means changes; older blobs are rebuilt, not misread.
FORMAT_VERSION = 1
_MAGIC = b"CVFI"


class FrameIndexError(Exception):
    """The video's packets cannot be indexed; ``str()`` is a one-line reason."""


@dataclass(frozen=True, eq=False)
class FrameIndex:
    """Presentation timestamps, keyframes and display geometry of one video stream.

    Attributes:
        pts: every frame's pts in presentation order (int64, in ``time_base`` units, ascending).
        keyframes: positions in ``pts`` of the frames a decoder can start from (ascending).
        time_base: seconds per pts unit.
        end_pts: where the last frame stops being shown (its pts plus its duration).
        rotation: clockwise degrees to turn a decoded picture to show it upright (0/90/180/270).
        coded_width: decoded picture width, before rotation.
        coded_height: decoded picture height, before rotation.
        avg_fps: the stream's average frame rate (what players call "the" fps).
        codec: FFmpeg's codec name (``h264``, ``hevc``, ``mpeg4``, …).
        fingerprint_meta: the metadata string the cache fingerprint has always hashed (OpenCV's
            frame count, fps and size, reproduced from the container header).
        synthetic_times: True when the file carries no usable timestamps (raw streams, some
            AVI files) and the times were made up from the average rate.
    """

    pts: np.ndarray
    keyframes: np.ndarray
    time_base: Fraction
    end_pts: int
    rotation: int
    coded_width: int
    coded_height: int
    avg_fps: float
    codec: str
    fingerprint_meta: str
    synthetic_times: bool = False

    @property
    def frame_count(self) -> int:
        """Number of frames in presentation order."""
        return len(self.pts)

    @property
    def times(self) -> np.ndarray:
        """Each frame's time in seconds from the first frame (float64)."""
        if not len(self.pts):
            return np.zeros(0, dtype=np.float64)
        # × numerator / denominator, not × float(time_base): 38 × 1/10 is then exactly 3.8.
        tb = self.time_base
        return (self.pts - self.pts[0]).astype(np.float64) * tb.numerator / tb.denominator

    @property
    def duration(self) -> float:
        """Seconds from the first frame's start to the last frame's end."""
        if not len(self.pts):
            return 0.0
        return float((self.end_pts - self.pts[0]) * self.time_base)

    @property
    def width(self) -> int:
        """Width of the picture as shown (after rotation)."""
        return self.coded_height if self.rotation % 180 else self.coded_width

    @property
    def height(self) -> int:
        """Height of the picture as shown (after rotation)."""
        return self.coded_width if self.rotation % 180 else self.coded_height

    def keyframe_before(self, position: int) -> int:
        """The position of the last keyframe at or before ``position`` (0 if there is none)."""
        i = int(np.searchsorted(self.keyframes, position, side="right")) - 1
        return int(self.keyframes[i]) if i >= 0 else 0

    # -- storage -------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """A compact, versioned encoding (timestamps delta-coded and compressed)."""
        header = {
            "version": FORMAT_VERSION,
            "time_base": [self.time_base.numerator, self.time_base.denominator],
            "end_pts": int(self.end_pts),
            "rotation": self.rotation,
            "size": [self.coded_width, self.coded_height],
            "avg_fps": self.avg_fps,
            "codec": self.codec,
            "fingerprint_meta": self.fingerprint_meta,
            "synthetic_times": self.synthetic_times,
            "count": len(self.pts),
            "keyframes": len(self.keyframes),
        }
        head = json.dumps(header).encode()
        pts = np.asarray(self.pts, dtype="<i8")
        deltas = np.diff(pts, prepend=np.int64(0)).astype("<i8")
        keys = np.diff(np.asarray(self.keyframes, dtype="<i8"), prepend=np.int64(0)).astype("<i8")
        body = zlib.compress(deltas.tobytes() + keys.tobytes(), 6)
        return _MAGIC + len(head).to_bytes(4, "big") + head + body

    @classmethod
    def from_bytes(cls, blob: bytes) -> FrameIndex:
        """Decode :meth:`to_bytes` output.

        Raises:
            FrameIndexError: if the blob is not a frame index of this format version.
        """
        try:
            if blob[:4] != _MAGIC:
                raise ValueError("bad magic")
            size = int.from_bytes(blob[4:8], "big")
            header: dict[str, Any] = json.loads(blob[8 : 8 + size])
            if header.get("version") != FORMAT_VERSION:
                raise ValueError(f"version {header.get('version')}")
            raw = zlib.decompress(blob[8 + size :])
            count, nkeys = int(header["count"]), int(header["keyframes"])
            arr = np.frombuffer(raw, dtype="<i8")
            if len(arr) != count + nkeys:
                raise ValueError("length mismatch")
            pts = np.cumsum(arr[:count]).astype(np.int64)
            keys = np.cumsum(arr[count:]).astype(np.int64)
            num, den = header["time_base"]
            width, height = header["size"]
            return cls(
                pts=pts,
                keyframes=keys,
                time_base=Fraction(int(num), int(den)),
                end_pts=int(header["end_pts"]),
                rotation=int(header["rotation"]),
                coded_width=int(width),
                coded_height=int(height),
                avg_fps=float(header["avg_fps"]),
                codec=str(header["codec"]),
                fingerprint_meta=str(header["fingerprint_meta"]),
                synthetic_times=bool(header.get("synthetic_times", False)),
            )
        except (ValueError, KeyError, TypeError, zlib.error, json.JSONDecodeError) as exc:
            raise FrameIndexError(f"not a frame index: {exc}") from None


def opencv_meta(
    *,
    nb_frames: int,
    avg_fps: float,
    time_base: Fraction,
    container_seconds: float,
    stream_seconds: float,
    width: int,
    height: int,
) -> str:
    """The fingerprint's metadata string, as the OpenCV-based probe produced it.

    OpenCV reports ``fps`` = the stream's average frame rate (1/time_base when unknown), the frame
    count = the container's ``nb_frames`` (else ``floor(duration × fps + 0.5)``, duration from the
    container, else the stream), and the size after applying the rotation. A unit test checks
    this against OpenCV itself on every kind of file the tests write.
    """
    fps = avg_fps if avg_fps > 0 else (1.0 / float(time_base) if time_base else 0.0)
    count = nb_frames
    if count <= 0:
        seconds = container_seconds if container_seconds > 0 else stream_seconds
        count = math.floor(seconds * fps + 0.5)
    if not math.isfinite(fps) or fps <= 0:
        fps = 25.0  # what the OpenCV-based probe substituted for a missing rate
    return f"{count};{fps:.6f};{width}x{height}"


def presentation_order(pts: list[int], keyframe: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Sort demuxed packets (decode order) into presentation order.

    Args:
        pts: each packet's pts, in decode order.
        keyframe: whether each packet is a keyframe.

    Returns:
        ``(pts, keyframe_positions)``: unique ascending pts and the positions of keyframes in it.
        Duplicate timestamps (broken muxers) keep one frame each: two frames with one time cannot
        be told apart by a seek.
    """
    arr = np.asarray(pts, dtype=np.int64)
    keys = np.asarray(keyframe, dtype=bool)
    order = np.argsort(arr, kind="stable")
    arr, keys = arr[order], keys[order]
    unique, first = np.unique(arr, return_index=True)
    key_any = np.logical_or.reduceat(keys, first) if len(first) else keys
    positions = np.flatnonzero(key_any).astype(np.int64)
    if len(unique) and (not len(positions) or positions[0] != 0):
        # A stream that starts on a non-keyframe (cut from a longer recording) still decodes from
        # its first packet, possibly with artefacts; treat the start as a place to begin.
        positions = np.concatenate([[0], positions]).astype(np.int64)
    return unique, positions


# How many packets may go into the decoder before the first picture must have come out.
_FIRST_FRAME_PACKETS = 300


def scan_video(path: str | os.PathLike[str]) -> FrameIndex:
    """Build the frame index of ``path``'s first video stream with one demux pass.

    Only the first picture is decoded (for the rotation, and to prove the stream decodes). A file
    that ends early (truncated, or damaged further on) is indexed up to the last packet that
    could be read.

    Raises:
        VideoError: if the file cannot be opened, has no video stream, or no frame decodes.
    """
    p = Path(path)
    container, stream = open_video_stream(p, threads=False)
    with container:
        pts: list[int | None] = []
        dts: list[int | None] = []
        keys: list[bool] = []
        durations: dict[int, int] = {}
        try:
            for packet in container.demux(stream):
                # Corrupt: cut short by the end of a truncated file (or damaged); it would not
                # decode, so it is not a frame anybody can ask for.
                if packet.size == 0 or packet.is_discard or packet.is_corrupt:
                    continue
                pts.append(packet.pts)
                dts.append(packet.dts)
                keys.append(bool(packet.is_keyframe))
                if packet.pts is not None and packet.duration:
                    durations[packet.pts] = int(packet.duration)
        except (av.FFmpegError, OSError, EOFError) as exc:
            if not pts:
                raise VideoError(f"cannot read video {p}: {describe(exc)}") from None
        if not pts:
            raise VideoError(f"video has no readable frames (truncated or damaged?): {p}")
        time_base = stream.time_base or Fraction(1, 1000)
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        stamps, synthetic = _timestamps(pts, dts, rate, time_base)
        ordered, keyframes = presentation_order(stamps, keys)
        rotation = _first_picture_rotation(p, container, stream)
        cc = stream.codec_context
        if rate <= 0:
            span = float((ordered[-1] - ordered[0]) * time_base)
            rate = (len(ordered) - 1) / span if span > 0 and len(ordered) > 1 else 25.0
        width, height = int(cc.width), int(cc.height)
        if rotation % 180:
            width, height = height, width
        meta = opencv_meta(
            nb_frames=int(stream.frames or 0),
            avg_fps=float(stream.average_rate) if stream.average_rate else 0.0,
            time_base=time_base,
            container_seconds=(container.duration or 0) / 1_000_000,
            stream_seconds=float((stream.duration or 0) * time_base),
            width=width,
            height=height,
        )
        last = int(ordered[-1])
        step = durations.get(last) or _last_step(ordered) or max(1, round(1 / rate / time_base))
        return FrameIndex(
            pts=ordered,
            keyframes=keyframes,
            time_base=Fraction(time_base),
            end_pts=last + int(step),
            rotation=rotation,
            coded_width=int(cc.width),
            coded_height=int(cc.height),
            avg_fps=rate,
            codec=str(cc.name),
            fingerprint_meta=meta,
            synthetic_times=synthetic,
        )


def _timestamps(
    pts: list[int | None], dts: list[int | None], rate: float, time_base: Fraction
) -> tuple[list[int], bool]:
    """Presentation timestamps of the packets, falling back when the file lacks them.

    Without pts on every packet (raw elementary streams, some AVI muxers) but with dts, the dts
    are used (such files rarely reorder); without either, times are spread at the average rate.
    """
    if all(t is not None for t in pts):
        return [int(t) for t in pts if t is not None], False
    if all(t is not None for t in dts):
        return [int(t) for t in dts if t is not None], False
    step = 1.0 / (rate if rate > 0 else 25.0) / float(time_base)
    return [round(i * step) for i in range(len(pts))], True


def _last_step(ordered: np.ndarray) -> int:
    """The pts step between the last two frames (0 for a single frame): how long the last frame
    lasts when the file does not say, the local rate being the best guess on variable-rate video.
    """
    if len(ordered) < 2:
        return 0
    return int(ordered[-1] - ordered[-2])


def _first_picture_rotation(path: Path, container: Any, stream: Any) -> int:
    """Decode the first picture and return its display rotation.

    Raises:
        VideoError: if no picture comes out of the first packets.
    """
    with ffmpeg_errors(path, "decode video"):
        container.seek(0, stream=stream, backward=True, any_frame=False)
        for fed, packet in enumerate(container.demux(stream), start=1):
            try:
                frames = stream.decode(packet)
            except av.FFmpegError:
                frames = []  # a damaged packet; the next keyframe may still decode
            for frame in frames:
                return rotation_of(frame)
            if fed >= _FIRST_FRAME_PACKETS:
                break
    raise VideoError(f"no frame of {path} could be decoded (damaged or unsupported codec?)")
