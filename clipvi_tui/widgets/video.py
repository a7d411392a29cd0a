"""The video view: shows the frame it is given with the chosen textual-image protocol.

Render only: decoding, scaling and preparing the picture happen on the screen's decoder thread
(:func:`frame_preparer`): textual-image's widgets get a PIL image already at the exact pixel size
of their cell box (nothing left to resample), the half-block widget gets finished lines. Clicks
and size changes are reported as messages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image as PILImage
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from clipvi_tui.widgets.halfblock import HalfBlockImage, build_strips


def image_widget_class(mode: str) -> type[Widget]:
    """The widget class that draws with ``mode`` (textual-image imported lazily).

    kitty, sixel and unicode use textual-image's widget for that protocol directly, so a forced
    ``--graphics`` never depends on what textual-image auto-detected. Half blocks use our own
    :class:`~clipvi_tui.widgets.halfblock.HalfBlockImage` (2× the frame rate at less CPU, see
    there).
    """
    if mode == "halfcell":
        return HalfBlockImage
    from textual_image.widget import SixelImage, TGPImage, UnicodeImage

    classes: dict[str, type[Widget]] = {
        "kitty": TGPImage,
        "sixel": SixelImage,
        "unicode": UnicodeImage,
    }
    return classes[mode]


def frame_preparer(mode: str, *, truecolor: bool = True) -> Callable[[np.ndarray], Any]:
    """What the decoder thread turns a scaled RGB frame into for ``mode``'s widget.

    ``truecolor``: the terminal takes 24-bit colour (half blocks then carry ready-made codes).
    """
    if mode == "halfcell":
        return functools.partial(build_strips, truecolor=truecolor)
    return PILImage.fromarray


class VideoView(Widget):
    """Centres the current frame in its box; a click anywhere on it posts :class:`Clicked`."""

    DEFAULT_CSS = """
    VideoView {
        align: center middle;
    }
    VideoView > #video-message {
        width: auto;
        height: auto;
        color: $text-muted;
    }
    VideoView > #video-image {
        display: none;
    }
    """

    class Clicked(Message):
        """The user clicked the video."""

    class Resized(Message):
        """The box available for the frame changed size (in cells)."""

        def __init__(self, cols: int, rows: int) -> None:
            """Carry the new content size."""
            super().__init__()
            self.cols = cols
            self.rows = rows

    def __init__(self, mode: str, *, id: str | None = None) -> None:
        """Create a view that draws with graphics ``mode``."""
        super().__init__(id=id)
        self.mode = mode
        self.frame: int | None = None  # raw index of the frame on display
        self._cells: tuple[int, int] = (0, 0)
        self._image: Any = None

    def compose(self) -> ComposeResult:
        """A message line until the first frame arrives, then the image widget."""
        yield Static("loading video…", id="video-message")
        self._image = image_widget_class(self.mode)(id="video-image")
        yield self._image

    @property
    def box(self) -> tuple[int, int]:
        """Columns and rows available for the frame."""
        size = self.content_size
        return size.width, size.height

    def show(self, frame: int, image: Any, cells: tuple[int, int]) -> None:
        """Display ``image`` (from :func:`frame_preparer`) in a ``cells`` box as raw ``frame``."""
        widget = self._image
        if widget is None:
            return
        if cells != self._cells:
            # A fixed cell size makes textual-image render at exactly this box (auto would
            # derive it from the pixel size and the terminal's cell size).
            widget.styles.width = cells[0]
            widget.styles.height = cells[1]
            self._cells = cells
        if not widget.display:
            widget.display = True
            self.query_one("#video-message", Static).display = False
        widget.image = image
        self.frame = frame

    def show_message(self, text: str) -> None:
        """Replace the picture with a line of text (e.g. a decode error)."""
        message = self.query_one("#video-message", Static)
        message.update(text)
        message.display = True
        if self._image is not None:
            self._image.display = False

    def on_click(self, event: events.Click) -> None:
        """Clicking the picture toggles playback (handled by the screen)."""
        event.stop()
        self.post_message(self.Clicked())

    def on_resize(self, event: events.Resize) -> None:
        """Ask for the frame again at the new size."""
        cols, rows = self.box
        self.post_message(self.Resized(cols, rows))
