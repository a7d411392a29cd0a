"""The prompt panel: every prompt of the session with its colour, on/off state and current score.

Render only. The screen owns the prompts and the selection; this widget draws what it is given
and reports clicks: :class:`PromptList.Clicked` names the row, and whether the click hit its
colour swatch (which shows/hides the line) or the text (which selects the row).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.message import Message
from textual.widget import Widget

from clipvi_tui.player.scoreboard import ScoreBoard

# Lines of explanation shown under the selected prompt.
NOTE_LINES = 3
# Content columns of a row that count as its swatch ("▸1 ■ text": the swatch is column 3; one
# cell either side makes it easy to hit).
SWATCH_COLUMNS = range(2, 5)


@dataclass(frozen=True)
class PromptRow:
    """What the panel shows for one prompt."""

    text: str
    color: tuple[int, int, int]
    visible: bool
    state: str  # pending | ready | rejected
    note: str
    score: float


def prompt_rows(board: ScoreBoard, frame: int) -> list[PromptRow]:
    """The panel's rows for ``board`` with the scores at raw ``frame`` (rounded, so a playhead
    that moves without changing a shown digit does not repaint the panel)."""
    scores = board.scores_at(frame)
    return [
        PromptRow(
            e.text,
            e.color,
            e.visible,
            e.state,
            e.note,
            # The one math.nan object, never a new float("nan"): rows compare equal by
            # identity there, so an unchanged panel is not repainted on every frame.
            math.nan if math.isnan(s) else round(s, 3),
        )
        for e, s in zip(board.prompts, scores, strict=True)
    ]


class PromptList(Widget):
    """A list of prompts with a cursor; number keys 1–9 refer to the first nine rows."""

    DEFAULT_CSS = """
    PromptList {
        height: 1fr;
    }
    """

    class Clicked(Message):
        """The user clicked prompt ``row``; ``on_swatch``: on its colour swatch."""

        def __init__(self, row: int, on_swatch: bool) -> None:
            """Carry the clicked row (0-based) and where in it the click landed."""
            super().__init__()
            self.row = row
            self.on_swatch = on_swatch

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty panel."""
        super().__init__(id=id)
        self.rows: list[PromptRow] = []
        self.selected = 0
        self._line_rows: list[int | None] = []  # prompt row of each line on screen (None: a note)

    def update_rows(self, rows: Sequence[PromptRow], selected: int) -> None:
        """Show ``rows`` with the cursor on ``selected``."""
        rows = list(rows)
        if rows == self.rows and selected == self.selected:
            return  # the playhead moved but no score changed: skip the repaint
        self.rows, self.selected = rows, selected
        self.refresh()

    def render(self) -> RenderResult:
        """One line per prompt, plus the note of the selected one; scrolled to the cursor."""
        width = max(10, self.content_size.width)
        if not self.rows:
            self._line_rows = []
            return Text("No prompts yet.\nPress a or / to add one.", style="italic")
        lines: list[Text] = []
        line_rows: list[int | None] = []
        cursor_line = 0
        for i, row in enumerate(self.rows):
            if i == self.selected:
                cursor_line = len(lines)
            lines.append(self._row_line(i, row, width))
            line_rows.append(i)
            if i == self.selected and row.note:
                # The selected prompt's note (why it waits or was refused), up to 3 lines.
                wrapped = textwrap.wrap(row.note, max(8, width - 4))
                if len(wrapped) > NOTE_LINES:
                    wrapped = [*wrapped[: NOTE_LINES - 1], wrapped[NOTE_LINES - 1][:-1] + "…"]
                lines.extend(Text(f"    {w}", style=Style(italic=True, dim=True)) for w in wrapped)
                line_rows.extend([None] * len(wrapped))
        height = max(1, self.content_size.height)
        # More prompts than rows: show a window that keeps the cursor in view.
        top = min(max(0, cursor_line - height // 2), max(0, len(lines) - height))
        self._line_rows = line_rows[top : top + height]
        return Text("\n").join(lines[top : top + height])

    def row_at(self, y: int) -> int | None:
        """The prompt row drawn on content line ``y`` (None for a note line or empty space)."""
        return self._line_rows[y] if 0 <= y < len(self._line_rows) else None

    def on_click(self, event: events.Click) -> None:
        """A click on a row selects it; on its swatch it shows/hides the line too."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self.row_at(offset.y)
        if row is not None:
            event.stop()
            self.post_message(self.Clicked(row, offset.x in SWATCH_COLUMNS))

    def _row_line(self, i: int, row: PromptRow, width: int) -> Text:
        """``▸1 ■ prompt text   0.273`` for row ``i``."""
        cursor = "▸" if i == self.selected else " "
        key = str(i + 1) if i < 9 else " "
        swatch = "■" if row.visible else "□"
        score = _score_text(row)
        room = max(1, width - 6 - len(score) - 1)
        label = row.text if len(row.text) <= room else row.text[: room - 1] + "…"
        line_style = Style(bold=True) if i == self.selected else Style()
        text_style = line_style + (Style(dim=True) if not row.visible else Style())
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{cursor}{key} ", style=line_style)
        line.append(swatch, style=Style(color=_rgb(row.color), dim=not row.visible))
        line.append(" ")
        line.append(label.ljust(room), style=text_style)
        line.append(" " + score, style=Style(dim=row.state != "ready"))
        return line


def _rgb(color: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*color)


def _score_text(row: PromptRow) -> str:
    if row.state == "rejected":
        return "  ✗  "
    if row.state == "pending":
        return "  …  "
    if math.isnan(row.score):
        return "  –  "
    return f"{row.score:5.3f}"
