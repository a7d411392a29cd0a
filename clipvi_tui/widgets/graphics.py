"""Terminal graphics: which image protocol to use and how big a frame is in cells and pixels.

textual-image picks its protocol when ``textual_image.renderable`` is first imported, by sending
query sequences to the terminal and reading the replies. That must happen before Textual starts its
input thread (which would swallow the replies), so the launcher calls :func:`resolve_mode` before
``App.run()``; everything else imports textual-image lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("kitty", "sixel", "halfcell", "unicode")
# Modes that draw with text cells: a cell shows 1×2 "pixels" (half blocks) or one shaded
# character, and terminal cells are about twice as tall as wide, so a cell is 1 unit wide and
# 2 units tall in square-pixel units.
TEXT_MODES = ("halfcell", "unicode")
# The cell size textual-image assumes when the terminal does not say (a VT340's).
FALLBACK_CELL_PX = (10, 20)


def detect_mode() -> str:
    """The protocol textual-image detected at import (imports it, querying the terminal once)."""
    import textual_image.renderable as renderable

    detected = renderable.Image
    if detected is renderable.TGPImage:
        return "kitty"
    if detected is renderable.SixelImage:
        return "sixel"
    if detected is renderable.HalfcellImage:
        return "halfcell"
    return "unicode"


def resolve_mode(requested: str) -> str:
    """Turn ``--graphics`` (``auto`` or a mode) into a concrete mode.

    Always imports ``textual_image.widget`` (and with it the protocol detection and the cell-size
    query), so call it before ``App.run()`` even when the mode is forced.

    Raises:
        ValueError: for an unknown mode.
    """
    if requested not in (*MODES, "auto"):
        raise ValueError(f"graphics must be auto or one of {', '.join(MODES)}, not {requested!r}")
    import textual_image.widget  # noqa: F401  (runs the terminal queries now, not inside the app)

    return detect_mode() if requested == "auto" else requested


def cell_pixels(mode: str) -> tuple[int, int]:
    """Size of one terminal cell in the units ``mode`` draws with."""
    if mode in TEXT_MODES:
        return (1, 2)
    try:
        from textual_image._terminal import get_cell_size

        size = get_cell_size()  # cached after the first (pre-run) query
        if size.width > 0 and size.height > 0:
            return (size.width, size.height)
    except Exception:  # not a terminal, closed stdout: fall back like textual-image does
        pass
    return FALLBACK_CELL_PX


@dataclass(frozen=True)
class FrameGeometry:
    """Where a frame goes: its size in cells and the pixel size to scale it to."""

    cells_w: int
    cells_h: int
    pixels_w: int
    pixels_h: int


def fit_frame(
    mode: str, src_w: int, src_h: int, cols: int, rows: int, cell_px: tuple[int, int]
) -> FrameGeometry:
    """Fit a ``src_w`` × ``src_h`` frame into ``cols`` × ``rows`` cells, keeping its aspect.

    Args:
        mode: the graphics mode.
        src_w: frame width in pixels.
        src_h: frame height in pixels.
        cols: available columns.
        rows: available rows.
        cell_px: cell size in the mode's units (see :func:`cell_pixels`).

    Returns:
        The cell box and the exact pixel size the renderer should receive, so that it does not
        resample again: half blocks draw 2 pixels per cell vertically, unicode shading 1.
    """
    cols, rows = max(1, cols), max(1, rows)
    unit_w, unit_h = cell_px
    scale = min(cols * unit_w / max(1, src_w), rows * unit_h / max(1, src_h))
    cells_w = max(1, min(cols, round(src_w * scale / unit_w)))
    cells_h = max(1, min(rows, round(src_h * scale / unit_h)))
    if mode == "halfcell":
        return FrameGeometry(cells_w, cells_h, cells_w, cells_h * 2)
    if mode == "unicode":
        return FrameGeometry(cells_w, cells_h, cells_w, cells_h)
    return FrameGeometry(cells_w, cells_h, cells_w * unit_w, cells_h * unit_h)
