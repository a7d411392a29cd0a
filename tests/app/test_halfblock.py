"""The half-block video widget's lines: what Textual writes for them, and the fast ANSI filter."""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.filter import ANSIToTruecolor
from textual.strip import Strip

from clipvi_tui.widgets import halfblock
from clipvi_tui.widgets.halfblock import (
    QUANT_BITS,
    CellStyle,
    TruecolorPassThrough,
    build_strips,
    install_truecolor_pass_through,
)


def picture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (8, 12, 3), dtype=np.uint8)


def test_lines_render_to_the_escape_codes_textual_would_compute() -> None:
    """The styles carry ready-made truecolor codes; Textual's own rendering of the same colours
    (a plain Style, whose codes Textual computes) gives byte-identical output. Pins the private
    ``Style._ansi`` cache the half blocks fill in."""
    console = Console(color_system="truecolor", force_terminal=True)
    strips = build_strips(picture())
    for strip in strips:
        plain = Strip(
            [Segment(s.text, Style.from_color(s.style.color, s.style.bgcolor)) for s in strip],
            strip.cell_length,
        )
        assert strip.render(console) == plain.render(console)
    first = next(iter(strips[0]))
    assert type(first.style) is CellStyle and first.text.startswith("▀")


def test_colours_are_quantised_and_cells_merge_into_runs() -> None:
    """Neighbouring cells of one quantised colour pair become one segment."""
    flat = np.full((4, 10, 3), 200, dtype=np.uint8)
    flat[:, 5:] = 40
    strips = build_strips(flat)
    assert [len(list(s)) for s in strips] == [2, 2]
    step = 1 << (8 - QUANT_BITS)
    first = next(iter(strips[0])).style
    assert first.color is not None and first.color.triplet is not None
    assert first.color.triplet.red % step == step // 2


def test_pass_through_filter_matches_textuals_filter() -> None:
    """Video lines pass untouched; a line with ANSI colours or dim is converted exactly as
    Textual's ANSIToTruecolor converts it."""
    from textual.color import Color as TextualColor

    base = ANSIToTruecolor(halfblock_theme())
    fast = TruecolorPassThrough(halfblock_theme())
    video = list(build_strips(picture(1))[0])
    assert fast.apply(video, TextualColor(0, 0, 0)) is video
    mixed = [*video[:2], Segment("x", Style(color="red")), Segment("y", Style(dim=True))]
    background = TextualColor(10, 20, 30)
    assert fast.apply(mixed, background) == base.apply(mixed, background)


def test_installs_in_place_of_textuals_filter() -> None:
    filters = [ANSIToTruecolor(halfblock_theme(), enabled=False)]
    install_truecolor_pass_through(filters)  # type: ignore[arg-type]
    assert type(filters[0]) is TruecolorPassThrough and not filters[0].enabled


def test_style_cache_stays_bounded() -> None:
    """Video makes new colour pairs all the time; the caches are cleared, not grown."""
    for seed in range(40):
        build_strips(np.random.default_rng(seed).integers(0, 256, (60, 100, 3), dtype=np.uint8))
    assert len(halfblock._STYLES) <= halfblock._CACHE_LIMIT + 1
    assert len(halfblock._COLORS) <= halfblock._COLOR_LIMIT + 1
    assert Color.from_rgb(1, 2, 3).triplet is not None


def halfblock_theme():  # type: ignore[no-untyped-def]
    """The terminal theme Textual's filter converts ANSI colours with (its dark default)."""
    from textual._ansi_theme import DEFAULT_TERMINAL_THEME

    return DEFAULT_TERMINAL_THEME
