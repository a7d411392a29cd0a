"""Terminal graphics: which image protocol to use and how big a terminal cell is in pixels.

textual-image picks its protocol when ``textual_image.renderable`` is first imported, by sending
query sequences to the terminal and reading the replies. That must happen before Textual starts its
input thread (which would swallow the replies), so the launcher calls :func:`resolve_mode` before
``App.run()``; everything else imports textual-image lazily.
"""

from __future__ import annotations

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

    Imports ``textual_image.widget`` (and with it the protocol detection and the cell-size query)
    for every mode but a forced ``halfcell``, so call it before ``App.run()``.

    Raises:
        ValueError: for an unknown mode.
    """
    if requested not in (*MODES, "auto"):
        raise ValueError(f"graphics must be auto or one of {', '.join(MODES)}, not {requested!r}")
    if requested == "halfcell":
        # Our own half-block widget needs nothing from textual-image, whose import queries the
        # terminal (≈0.2 s in tmux, where the kitty and Sixel queries time out).
        return requested
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
