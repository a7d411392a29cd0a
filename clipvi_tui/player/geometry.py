"""Where a frame goes on screen: its size in cells and the pixel size to scale it to (pure).

Text modes draw with cells: a cell shows 1×2 "pixels" (half blocks) or one shaded character, and
terminal cells are about twice as tall as wide, so in square-pixel units a cell is 1 unit wide and
2 units tall. Image protocols (kitty, Sixel) draw real pixels at the terminal's cell size.
"""

from __future__ import annotations

from dataclasses import dataclass


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
