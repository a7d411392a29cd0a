"""A lean half-block image: the picture is turned into Textual strips on the decoder thread.

textual-image's half-cell renderable works per pixel through Rich on the UI thread (a ``Style``
per cell, then Rich's line splitting) and its widget asks for a full layout pass on every new
image. Measured in tmux at 120×40 on these 2-core machines that capped playback at ≈9 frames/s
with 76 % of a core busy. Here the decoder thread builds the :class:`~textual.strip.Strip` lines
itself — one segment per run of identical colour pairs, colours rounded to
:data:`QUANT_BITS` bits per channel so neighbouring pixels share runs and styles — and the widget
only hands those lines to the compositor.
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

# Bits kept per colour channel. 6 bits (262k colours) shows no visible banding on video and
# makes long runs of equal cells in flat areas; 8 would make almost every cell its own segment.
QUANT_BITS = 6
UPPER_HALF = "▀"

# (top << 24 | bottom) → Style and 0xRRGGBB → Color, shared across frames and threads: dict
# get/set are atomic in CPython and both objects are immutable, so the worst case is building
# the same one twice.
_STYLES: dict[int, Style] = {}
_COLORS: dict[int, Color] = {}
_CACHE_LIMIT = 8_192


def _color(rgb: int) -> Color:
    color = _COLORS.get(rgb)
    if color is None:
        color = Color.from_triplet(ColorTriplet(rgb >> 16, (rgb >> 8) & 255, rgb & 255))
        _COLORS[rgb] = color
    return color


def _style(key: int) -> Style:
    style = _STYLES.get(key)
    if style is None:
        if len(_STYLES) > _CACHE_LIMIT:
            _STYLES.clear()
            _COLORS.clear()
        # from_color skips Style's argument parsing: ≈4× cheaper than Style(color=…, bgcolor=…).
        style = Style.from_color(_color(key >> 24), _color(key & 0xFFFFFF))
        _STYLES[key] = style
    return style


def quantise(rgb: np.ndarray, bits: int = QUANT_BITS) -> np.ndarray:
    """Round each channel to ``bits`` bits (to the middle of its bucket), as uint32."""
    shift = 8 - bits
    if shift <= 0:
        return rgb.astype(np.uint32)
    q = (rgb.astype(np.uint32) >> shift) << shift
    return np.minimum(q + (1 << (shift - 1)), 255)


def build_strips(rgb: np.ndarray, bits: int = QUANT_BITS) -> list[Strip]:
    """Turn an RGB image (``H`` × ``W`` × 3, ``H`` even) into ``H/2`` lines of upper half blocks.

    Each cell shows two vertically stacked pixels: the top one as the foreground of "▀", the
    bottom one as its background. Runs of identical cells become one segment.
    """
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
    q = quantise(rgb, bits)
    packed = (q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2]  # H × W colours
    keys = (packed[0::2].astype(np.uint64) << np.uint64(24)) | packed[1::2].astype(np.uint64)
    width = keys.shape[1]
    strips: list[Strip] = []
    for row in keys:
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        lengths = np.diff(np.r_[starts, width]).tolist()
        values = row[starts].tolist()
        segments = [
            Segment(UPPER_HALF * n, _STYLES.get(v) or _style(v))
            for n, v in zip(lengths, values, strict=True)
        ]
        strips.append(Strip(segments, width))
    return strips


class HalfBlockImage(Widget):
    """Shows prebuilt half-block lines; sized in cells by the caller."""

    DEFAULT_CSS = """
    HalfBlockImage {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty image."""
        super().__init__(id=id)
        self._strips: list[Strip] = []

    @property
    def image(self) -> list[Strip]:
        """The lines on display (named like textual-image's widgets' ``image``)."""
        return self._strips

    @image.setter
    def image(self, strips: list[Strip]) -> None:
        self._strips = strips
        self.refresh()  # repaint only: the size is set by the caller, so no layout pass

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the picture (blank outside it)."""
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width)
