"""Line colours for prompts: the colour a prompt names, else the next free palette colour.

"a red circle" drawn sky blue contradicts the prompt the user just typed. So a prompt that names a
colour (:data:`NAMED_COLOURS`) gets that colour, unless another visible prompt already has it (two
red lines would be worse); every other prompt gets the first palette colour that no prompt uses
and that does not look like one in use. Pure functions, no Textual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

RGB = tuple[int, int, int]

# Colour words a prompt may name and the line each gets, chosen to read on dark and light
# backgrounds. Black has no entry: a black line disappears on a dark terminal.
NAMED_COLOURS: dict[str, RGB] = {
    "red": (230, 45, 45),
    "orange": (245, 145, 20),
    "yellow": (240, 220, 40),
    "gold": (225, 180, 30),
    "green": (40, 190, 70),
    "lime": (160, 230, 50),
    "teal": (0, 160, 150),
    "cyan": (40, 210, 230),
    "blue": (60, 115, 245),
    "purple": (165, 90, 235),
    "violet": (165, 90, 235),
    "magenta": (225, 50, 200),
    "pink": (250, 120, 185),
    "brown": (165, 105, 50),
    "white": (235, 235, 235),
    "grey": (150, 150, 150),
    "gray": (150, 150, 150),
}

# Distinct colours for prompts that name none; a prompt keeps its colour for the whole session
# (it is not reassigned when another prompt is deleted).
PALETTE: tuple[RGB, ...] = (
    (86, 180, 233),  # sky blue
    (230, 159, 0),  # orange
    (0, 200, 130),  # green
    (240, 90, 160),  # pink
    (240, 228, 66),  # yellow
    (180, 130, 255),  # violet
    (255, 100, 60),  # vermilion
    (150, 220, 255),  # pale blue
    (170, 255, 120),  # lime
)

# Two colours closer than this (Euclidean, RGB) read as "the same colour" on a chart.
_TOO_CLOSE = 90.0
_WORD = re.compile(r"[a-z]+")


def named_colours(text: str) -> list[RGB]:
    """The colours ``text`` names, in the order it names them (``"a red and blue flag"`` →
    red, blue)."""
    return [NAMED_COLOURS[w] for w in _WORD.findall(text.lower()) if w in NAMED_COLOURS]


def _distance(a: RGB, b: RGB) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def pick_colour(text: str, taken: Iterable[tuple[RGB, bool]], serial: int) -> tuple[RGB, int]:
    """The line colour for a new prompt ``text``.

    Args:
        text: the prompt.
        taken: ``(colour, visible)`` of every prompt already on the board.
        serial: where the palette search starts (advances as colours are handed out, so a
            deleted prompt's colour is not the very next one given).

    Returns:
        The colour, and the serial for the next call.
    """
    taken = list(taken)
    visible = {c for c, v in taken if v}
    for colour in named_colours(text):
        if colour not in visible:
            return colour, serial
    used = {c for c, _ in taken}
    n = len(PALETTE)
    candidates = [(offset, PALETTE[(serial + offset) % n]) for offset in range(n)]
    free = [(o, c) for o, c in candidates if c not in used]
    distinct = [(o, c) for o, c in free if all(_distance(c, u) >= _TOO_CLOSE for u in used)]
    for offset, colour in distinct or free:
        return colour, serial + offset + 1
    return PALETTE[serial % n], serial + 1
