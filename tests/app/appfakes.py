"""Test doubles and helpers shared by the Pilot and snapshot tests (no fixtures here).

:class:`ColourClient` is a test double for the *UI*: it embeds a frame as its mean colour and a
prompt by the colour words in it, so "red" scores high on red frames. Real CLIP through the real
Inference server is covered by ``tests/integration`` and by the tmux end-to-end test.

Kept out of ``conftest.py`` so tests import it by a unique name (``tests/conftest.py`` exists too).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from textual.pilot import Pilot

from clipvi_tui.app import ClipviApp
from clipvi_tui.core.embeddings import ServerUnreachable
from clipvi_tui.core.failures import PromptTooLong
from clipvi_tui.player.scoreboard import READY
from clipvi_tui.screens.player import PlayerScreen
from clipvi_tui.widgets.video import VideoView

# 60 frames at 10 fps: 0-19 red, 20-39 green, 40-59 blue, each with its index written on it.
VIDEO_FRAMES = 60
VIDEO_FPS = 10.0
COLOURS_BGR = ((40, 40, 220), (40, 200, 40), (220, 60, 40))
WORDS = {"red": (0.0, 0.0, 1.0), "green": (0.0, 1.0, 0.0), "blue": (1.0, 0.0, 0.0)}

MakeApp = Callable[..., ClipviApp]


def colour_of(frame: int) -> str:
    """The colour word of a generated frame."""
    return ("red", "green", "blue")[min(2, frame * 3 // VIDEO_FRAMES)]


def write_video(path: Path, frames: int = VIDEO_FRAMES, fps: float = VIDEO_FPS) -> Path:
    """Write the test video with OpenCV (MJPG in .avi: exact frames, fast seeks)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 90))
    assert writer.isOpened(), "OpenCV cannot write MJPG here"
    for k in range(frames):
        img = np.zeros((90, 160, 3), dtype=np.uint8)
        img[:] = COLOURS_BGR[min(2, k * 3 // frames)]
        # A white bar whose length encodes the index makes every frame visibly different.
        img[70:80, 5 : 5 + 2 * k] = 255
        cv2.putText(img, str(k), (60, 55), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
        writer.write(img)
    writer.release()
    return path


class ColourClient:
    """A deterministic :class:`~clipvi_tui.core.embeddings.EmbeddingClient` for UI tests.

    Image vector: mean B, G, R of the frame plus a constant, so cosines are in a readable range.
    Text vector: the colour words it contains. Texts of more than 77 words are rejected like CLIP
    rejects over-long prompts. ``down`` simulates a server that does not answer; ``delay`` slows
    each image batch (to watch the indexer work).
    """

    model_id = "test/colour"
    preprocess_tag = "mean"
    max_batch = 4

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.down = threading.Event()
        self.image_calls = 0
        self.text_calls: list[str] = []

    def embed_images(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        if self.down.is_set():
            raise ServerUnreachable("cannot reach the Inference server at http://test")
        if self.delay:
            time.sleep(self.delay)
        self.image_calls += 1
        rows = [np.r_[f.reshape(-1, 3).mean(axis=0) / 255.0, 0.3] for f in frames]
        return np.asarray(rows, dtype=np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if self.down.is_set():
            raise ServerUnreachable("cannot reach the Inference server at http://test")
        rows = []
        for text in texts:
            if len(text.split()) > 77:
                raise PromptTooLong("Inference server rejected the request (HTTP 400): too long")
            self.text_calls.append(text)
            vec = np.zeros(3)
            for word, bgr in WORDS.items():
                if word in text.lower():
                    vec += bgr
            rows.append(np.r_[vec, 0.3])
        return np.asarray(rows, dtype=np.float32)


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds; fail with a clear message after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


async def ready(pilot: Pilot[Any]) -> PlayerScreen:
    """Wait until indexing is done, the prompts have vectors and the first frame is painted."""
    app = pilot.app
    assert isinstance(app, ClipviApp)
    player = app.player
    await wait_for(
        pilot,
        lambda: (
            player.background.index_state == "done"
            and all(e.state == READY for e in player.board.prompts)
            and player.stats.paints >= 1
        ),
    )
    return player


def shown(player: PlayerScreen) -> int | None:
    """Raw index of the frame the video view displays."""
    return player.query_one("#video", VideoView).frame


async def settle(pilot: Pilot[Any], player: PlayerScreen) -> None:
    """Wait until the displayed frame is the current position."""
    await wait_for(pilot, lambda: shown(player) == player.frame)
