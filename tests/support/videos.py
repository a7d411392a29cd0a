"""Generated test videos whose frames carry their own index, drawn as a binary colour code.

Each frame shows its index as 12 bits: a row of blocks along the top, white for 1 and black for
0, over a background whose hue also changes with the index. Reading the blocks back tells which
frame a decoder really returned, so frame accuracy is checked, not assumed.
"""

from __future__ import annotations

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
