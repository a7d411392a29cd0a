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

import functools

import numpy as np
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.color import Color as TextualColor
from textual.filter import ANSIToTruecolor, LineFilter
from textual.strip import Strip
from textual.widget import Widget

# Bits kept per colour channel. 5 bits (32,768 colours) keeps every colour the video uses in the
# colour cache (≈20k on camera footage, ≈9 MB), so a frame's ≈2,500 new colour pairs cost
# 2.3 ms to build; at 6 bits the colours (≈125k) no longer fit a bounded cache and the same
# frame costs 8 ms (3.6 ms with an unbounded, 55 MB cache). Measured on the 720p benchmark video
# at 96×54 pixels. 5 bits still shows smooth gradients as 8-level steps at most.
QUANT_BITS = 5
UPPER_HALF = "▀"

# (top << 24 | bottom) → Style and 0xRRGGBB → Color, shared across frames and threads: dict
# get/set are atomic in CPython and both objects are immutable, so the worst case is building
# the same one twice. Both are cleared when they grow too big (video makes new colour pairs all
# the time).
_STYLES: dict[int, Style] = {}
_COLORS: dict[int, tuple[Color, str, str]] = {}  # rgb → (colour, fg SGR codes, bg SGR codes)
# Styles kept (video rarely repeats a colour pair, so a big cache only costs memory and garbage
# collection time) and colours kept (2^18 possible at 6 bits, ≈350 bytes each).
_CACHE_LIMIT = 16_384
_COLOR_LIMIT = 65_536


def _color(rgb: int) -> tuple[Color, str, str]:
    entry = _COLORS.get(rgb)
    if entry is None:
        if len(_COLORS) > _COLOR_LIMIT:
            _COLORS.clear()
        r, g, b = rgb >> 16, (rgb >> 8) & 255, rgb & 255
        entry = (
            Color.from_triplet(ColorTriplet(r, g, b)),
            f"38;2;{r};{g};{b}",
            f"48;2;{r};{g};{b}",
        )
        _COLORS[rgb] = entry
    return entry


class CellStyle(Style):
    """The style of one half-block cell: a truecolor foreground and background, nothing else.

    A subclass only so that :class:`TruecolorPassThrough` can recognise video cells with one
    ``type(style) is CellStyle`` test; Rich treats it as any Style (combining styles makes plain
    Styles).
    """

    __slots__ = ()


def _style(key: int, truecolor: bool) -> Style:
    """The style of a cell whose top pixel is ``key >> 24`` and bottom pixel ``key & 0xFFFFFF``.

    Video makes new colour pairs all the time (at 6 bits a channel almost every cell of every
    frame is a pair not seen before), so this is on the hot path: ≈1 µs.
    """
    cache_key = key if truecolor else -key - 1
    style = _STYLES.get(cache_key)
    if style is None:
        if len(_STYLES) > _CACHE_LIMIT:
            _STYLES.clear()
        top = _COLORS.get(key >> 24) or _color(key >> 24)
        bottom = _COLORS.get(key & 0xFFFFFF) or _color(key & 0xFFFFFF)
        # What Style.from_color does (it skips Style's argument parsing), for the subclass.
        style = CellStyle.__new__(CellStyle)
        style._style_definition = None
        style._color, style._bgcolor = top[0], bottom[0]
        style._set_attributes = style._attributes = 0
        style._link, style._link_id, style._meta = None, "", None
        style._null, style._hash = False, None
        # Textual renders a segment as ESC[<style._ansi>m…; it computes and caches _ansi on
        # first use through Color.downgrade/get_ansi_codes, ≈5 µs a style. The codes of a
        # truecolor pair are known: set them now (a test pins what Textual then writes).
        style._ansi = top[1] + ";" + bottom[2] if truecolor else None
        _STYLES[cache_key] = style
    return style


def quantise(rgb: np.ndarray, bits: int = QUANT_BITS) -> np.ndarray:
    """Round each channel to ``bits`` bits (to the middle of its bucket), as uint32."""
    shift = 8 - bits
    if shift <= 0:
        return rgb.astype(np.uint32)
    q = (rgb.astype(np.uint32) >> shift) << shift
    return np.minimum(q + (1 << (shift - 1)), 255)


def build_strips(rgb: np.ndarray, bits: int = QUANT_BITS, *, truecolor: bool = True) -> list[Strip]:
    """Turn an RGB image (``H`` × ``W`` × 3, ``H`` even) into ``H/2`` lines of upper half blocks.

    Each cell shows two vertically stacked pixels: the top one as the foreground of "▀", the
    bottom one as its background. Runs of identical cells become one segment. ``truecolor``: the
    terminal takes 24-bit colour (the styles then carry their escape codes ready-made).
    """
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
    q = quantise(rgb, bits)
    packed = (q[..., 0] << 16) | (q[..., 1] << 8) | q[..., 2]  # H × W colours
    keys = (packed[0::2].astype(np.uint64) << np.uint64(24)) | packed[1::2].astype(np.uint64)
    width = keys.shape[1]
    styles, make = _STYLES, _style
    runs = _runs(width)
    strips: list[Strip] = []
    for row in keys:
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        lengths = np.diff(np.r_[starts, width]).tolist()
        values = row[starts].tolist()
        if not truecolor:  # non-truecolor styles live under negative keys
            values = [-v - 1 for v in values]
        segments = [
            Segment(runs[n], styles.get(v) or make(v if truecolor else -v - 1, truecolor))
            for n, v in zip(lengths, values, strict=True)
        ]
        strips.append(Strip(segments, width))
    return strips


@functools.lru_cache(maxsize=8)
def _runs(width: int) -> list[str]:
    """``UPPER_HALF * n`` for every n up to ``width`` (built once per width)."""
    return [UPPER_HALF * n for n in range(width + 1)]


class TruecolorPassThrough(ANSIToTruecolor):
    """Textual's ANSI-to-truecolor line filter, made free for lines that need no conversion.

    Textual runs this filter over every segment of every changed line, building new segments and
    looking each style up in an LRU cache; half-block video changes ≈2,500 segments a frame, all
    already truecolor. A line whose styles all carry RGB colours (and no ``dim``) passes through
    unchanged here; any other line is converted exactly as Textual would.
    """

    def apply(self, segments: list[Segment], background: TextualColor) -> list[Segment]:
        """The segments themselves when nothing in them needs converting."""
        cell = CellStyle
        for _, style, _ in segments:
            if style is None or type(style) is cell:
                continue
            color, bgcolor = style._color, style._bgcolor
            if (
                (color is not None and color.triplet is None)
                or (bgcolor is not None and bgcolor.triplet is None)
                or style.dim
            ):
                return super().apply(segments, background)
        return segments


def install_truecolor_pass_through(filters: list[LineFilter]) -> None:
    """Replace Textual's ANSIToTruecolor in an app's line filters with the pass-through one."""
    for i, line_filter in enumerate(filters):
        if type(line_filter) is ANSIToTruecolor:
            filters[i] = TruecolorPassThrough(
                line_filter._terminal_theme, enabled=line_filter.enabled
            )


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
