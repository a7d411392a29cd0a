"""Line colours follow the colour words of the prompts (unit tests of ``player.colours``)."""

from __future__ import annotations

import numpy as np

from clipvi_tui.player.colours import NAMED_COLOURS, PALETTE, named_colours, pick_colour
from clipvi_tui.player.scoreboard import ScoreBoard


def _board(*prompts: str) -> ScoreBoard:
    board = ScoreBoard(np.arange(10), fps=10.0)
    for p in prompts:
        board.add_prompt(p)
    return board


def test_prompts_naming_a_colour_get_it() -> None:
    """The demo's prompts are drawn in the colours they name (the bug: red was sky blue and
    yellow green)."""
    board = _board("a red circle", "a yellow triangle", "a Blue square", "a violet star", "pink")
    colours = [e.color for e in board.prompts]
    assert colours == [NAMED_COLOURS[c] for c in ("red", "yellow", "blue", "violet", "pink")]


def test_a_colour_two_visible_prompts_name_goes_to_the_first() -> None:
    """The second "red" prompt gets a palette colour that does not look red; a hidden red prompt
    does not keep its colour from a new one; purple and violet are one colour."""
    board = _board("a red circle", "a red square")
    first, second = (e.color for e in board.prompts)
    assert first == NAMED_COLOURS["red"] and second in PALETTE
    assert np.linalg.norm(np.subtract(second, first)) > 90, "not another red"
    board.toggle(0)
    board.add_prompt("red car")
    assert board.prompts[2].color == NAMED_COLOURS["red"], "the red line is hidden: free"
    board = _board("a purple star", "a violet star")
    assert board.prompts[1].color != board.prompts[0].color


def test_the_first_free_colour_word_wins() -> None:
    """A prompt naming several colours takes the first one no visible prompt has."""
    assert named_colours("a red and blue flag") == [NAMED_COLOURS["red"], NAMED_COLOURS["blue"]]
    assert named_colours("a reddish bored cat") == [], "whole words only"
    board = _board("red", "a red and blue flag")
    assert board.prompts[1].color == NAMED_COLOURS["blue"]


def test_other_prompts_take_the_palette_avoiding_lookalikes() -> None:
    """A prompt without a colour word gets the first palette colour, skipping ones that look
    like a colour in use (sky blue next to a blue line)."""
    assert _board("a dog").prompts[0].color == PALETTE[0]
    board = _board("a blue car", "a dog")
    dog = board.prompts[1].color
    assert dog in PALETTE and dog != PALETTE[0], "sky blue is too close to blue"
    colour, serial = pick_colour("x", [(c, True) for c in PALETTE], 3)
    assert colour == PALETTE[3] and serial == 4, "all taken: the palette cycles"
