"""Generated test videos whose frames carry their own index, drawn as a binary colour code.

Each frame shows its index as 12 bits: a row of blocks along the top, white for 1 and black for
0, over a background whose hue also changes with the index. Reading the blocks back tells which
frame a decoder really returned, so frame accuracy is checked, not assumed.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

BITS = 12
BLOCK = 16


def frame_with_code(index: int, width: int = 320, height: int = 240) -> np.ndarray:
    """A BGR frame showing ``index`` as a bit code; the background colour drifts with it."""
    hue = (index * 7) % 180
    hsv = np.full((height, width, 3), (hue, 160, 160), dtype=np.uint8)
    frame = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    for bit in range(BITS):
        on = (index >> bit) & 1
        x = bit * BLOCK
        frame[0:BLOCK, x : x + BLOCK] = 255 if on else 0
    return frame


def read_code(frame: np.ndarray) -> int:
    """The index encoded by :func:`frame_with_code` (robust to codec noise)."""
    value = 0
    for bit in range(BITS):
        x = bit * BLOCK
        block = frame[3 : BLOCK - 3, x + 3 : x + BLOCK - 3]
        if block.mean() > 127:
            value |= 1 << bit
    return value


def write_coded_video(
    path: Path,
    frames: int = 60,
    fps: float = 10.0,
    size: tuple[int, int] = (320, 240),
    codec: str = "mp4v",
) -> Path:
    """Write a video whose frame k shows code k."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {codec} here"
    for k in range(frames):
        writer.write(frame_with_code(k, *size))
    writer.release()
    return path


def write_colour_video(
    path: Path,
    colours: list[tuple[int, int, int]],
    frames_each: int = 10,
    fps: float = 10.0,
    size: tuple[int, int] = (320, 240),
) -> Path:
    """Write a video of solid BGR colour runs (``frames_each`` frames per colour)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for bgr in colours:
        frame = np.empty((size[1], size[0], 3), dtype=np.uint8)
        frame[:] = bgr
        for _ in range(frames_each):
            writer.write(frame)
    writer.release()
    return path


# -- camera-like H.264 written with PyAV's libx264 ------------------------------------------------
#
# OpenCV writes mp4v/MJPG with short GOPs and a constant rate, which hides what real videos do.
# These writers produce what cameras and the web produce: B-frames (decode order differs from
# presentation order), long GOPs, explicit timestamps (variable frame rate) and rotation metadata.

# A fine time base for explicit timestamps: MPEG's 90 kHz clock.
VFR_TIME_BASE = 90_000


def write_h264_video(
    path: Path,
    frames: int = 60,
    fps: float = 30.0,
    size: tuple[int, int] = (320, 240),
    *,
    gop: int = 250,
    bframes: int = 3,
    times: Sequence[float] | None = None,
    rotation: int = 0,
    draw: Callable[[int, int, int], np.ndarray] = frame_with_code,
    preset: str = "veryfast",
    faststart: bool = False,
) -> Path:
    """Write an H.264 mp4 whose frame k is ``draw(k, width, height)`` (BGR).

    Args:
        path: the .mp4 to write.
        frames: how many frames.
        fps: the nominal rate (each frame lasts 1/fps unless ``times`` is given).
        size: coded width and height (before rotation).
        gop: keyframe interval (x264's ``g``).
        bframes: consecutive B-frames (x264's ``bf``); 0 for none.
        times: presentation time of every frame in seconds, ascending (variable frame rate).
        rotation: display rotation in degrees clockwise (0, 90, 180, 270), stored as the track's
            display matrix the way phones do; players turn the coded picture by it.
        draw: the picture of frame k.
        preset: x264 speed preset (``veryfast`` keeps B-frames and long GOPs, writes fast).
        faststart: put the index (moov) before the data, as web video does.
    """
    import av

    width, height = size
    rate = Fraction(fps).limit_denominator(1001)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        # sc_threshold 0: no extra keyframes at scene cuts, so the GOP really is `gop` frames.
        stream.options = {
            "g": str(gop),
            "bf": str(bframes),
            "preset": preset,
            "sc_threshold": "0",
        }
        time_base = Fraction(1, VFR_TIME_BASE) if times is not None else 1 / rate
        stream.codec_context.time_base = time_base
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(k, width, height), format="bgr24")
            frame.pts = round(times[k] * VFR_TIME_BASE) if times is not None else k
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    if rotation % 360:
        set_mp4_rotation(path, rotation)
    return path


def vfr_times(sections: Sequence[tuple[float, int]]) -> list[float]:
    """Frame times of consecutive constant-rate sections: ``[(fps, frames), ...]``."""
    out: list[float] = []
    start = 0.0
    for fps, count in sections:
        out.extend(start + i / fps for i in range(count))
        start += count / fps
    return out


def set_mp4_rotation(path: Path, degrees: int) -> None:
    """Write a clockwise display rotation into the (single) video track's tkhd matrix.

    This is where phones record orientation; FFmpeg reads it as the stream's display matrix.
    """
    one = 0x10000
    matrices = {
        0: (one, 0, 0, one),
        90: (0, one, -one, 0),
        180: (-one, 0, 0, -one),
        270: (0, -one, one, 0),
    }
    a, b, c, d = matrices[degrees % 360]
    data = bytearray(path.read_bytes())
    box = data.find(b"tkhd")
    assert box > 0, f"no tkhd box in {path}"
    version = data[box + 4]
    # version/flags (4), times and ids (20 or 32), reserved (8), layer..volume+reserved (8)
    matrix_at = box + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    struct.pack_into(">9i", data, matrix_at, a, b, 0, c, d, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def camera_like(index: int, width: int, height: int) -> np.ndarray:
    """A frame that costs what camera footage costs to decode and to show: a panning scene.

    The scene's detail falls off with fineness like a photograph's (big soft shapes, smaller
    ones weaker, a little sensor grain), so it has the bit rate of real footage and, shrunk to a
    terminal, the smooth-but-busy look of it. It pans diagonally (motion search finds it), a
    bright disc moves across, and the frame's bit code sits on top so benchmarks can check which
    frame they got.
    """
    texture = _texture(width + 256, height + 256)
    dx, dy = (index * 3) % 256, (index * 2) % 256
    frame = texture[dy : dy + height, dx : dx + width].copy()
    cx = int(width / 2 + width / 3 * np.sin(index / 20))
    cv2.circle(frame, (cx, height // 2), max(4, height // 6), (255, 255, 255), -1)
    for bit in range(BITS):
        on = (index >> bit) & 1
        frame[0:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255 if on else 0
    return frame


@functools.lru_cache(maxsize=4)
def _texture(width: int, height: int) -> np.ndarray:
    """Octaves of smooth noise, coarse ones strongest (a 1/f spectrum), plus fine grain."""
    rng = np.random.default_rng(7)
    total = np.zeros((height, width, 3), dtype=np.float32)
    for cell, weight in ((256, 1.0), (64, 0.5), (16, 0.25), (4, 0.125)):
        small = rng.standard_normal((height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        total += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    total += 0.06 * rng.standard_normal((height, width, 3)).astype(np.float32)
    scaled = 128 + 60 * total
    return np.clip(scaled, 0, 255).astype(np.uint8)


# -- broken files ----------------------------------------------------------------------------


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An .m4a-style mp4 with one AAC audio stream and no video."""
    import av

    rate = 16_000
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = np.zeros((1, 1024), dtype=np.float32)
        for i in range(int(seconds * rate / 1024)):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def broken_videos(folder: Path) -> dict[str, Path]:
    """One file (or folder) per way a video can be unusable, named by what is wrong with it.

    Every one of them must end in a single clear ``VideoError`` line, with nothing printed by
    FFmpeg or OpenCV.
    """
    folder.mkdir(parents=True, exist_ok=True)
    good = write_h264_video(folder / "good.mp4", frames=90, fps=30.0, faststart=True)
    data = good.read_bytes()
    mdat = data.find(b"mdat")
    out = {
        "missing": folder / "missing.mp4",
        "directory": folder / "a-folder.mp4",
        "not a video": folder / "notes.mp4",
        "zero bytes": folder / "empty.mp4",
        "truncated header": folder / "truncated-header.mp4",
        "truncated data": folder / "truncated-data.mp4",
        "garbage after the header": folder / "garbage.mp4",
        "no video stream": folder / "audio-only.mp4",
    }
    out["directory"].mkdir(exist_ok=True)
    out["not a video"].write_text("these are my notes, not a video\n" * 50)
    out["zero bytes"].write_bytes(b"")
    out["truncated header"].write_bytes(data[: max(16, mdat // 2)])
    out["truncated data"].write_bytes(data[: mdat + 64])
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, len(data) - mdat - 8, dtype=np.uint8).tobytes()
    out["garbage after the header"].write_bytes(data[: mdat + 8] + noise)
    write_audio_only(out["no video stream"])
    return out


def write_odd_size_video(path: Path, frames: int = 10, size: tuple[int, int] = (321, 241)) -> Path:
    """An MJPEG .avi with an odd width and height (H.264 in 4:2:0 cannot be odd; MJPEG can)."""
    import av

    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p"
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_with_code(k, width, height), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
