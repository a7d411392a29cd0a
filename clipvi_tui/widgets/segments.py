"""The segment list: every shown prompt's segments, with their span and peak; enter seeks.

Render only. The screen gives it rows; a prompt without segments gets one dim row saying why
("no segment: the high state stays below the presence floor"), because silence would look like
a bug. Choosing a segment row posts :class:`SegmentList.Chosen`; esc hands the keys back to the
player.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from clipvi_tui.player.moments import Shown
from clipvi_tui.widgets.chart_math import format_clock


@dataclass(frozen=True)
class SegmentRow:
    """One prompt's part of the list: its segments as ``(start_s, end_s, peak_s, peak_score)``,
    or the reason it has none."""

    prompt: str
    color: tuple[int, int, int]
    spans: tuple[tuple[float, float, float, float], ...]
    reason: str = ""


def rows_for(shown: Sequence[Shown]) -> list[SegmentRow]:
    """The list's rows for the prompts shown (in their order, segments in time order)."""
    return [
        SegmentRow(
            s.entry.text,
            s.entry.color,
            tuple((g.start_s, g.end_s, g.peak_s, g.peak_score) for g in s.found.segments),
            "" if s.found.segments else s.found.threshold.reason or "nothing reaches the threshold",
        )
        for s in shown
    ]


class SegmentList(OptionList):
    """Segments grouped by prompt; a prompt's header and its "no segment" line are disabled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to the player", show=False, id="segments.leave"),
    ]

    class Chosen(Message):
        """The user chose the ``index``-th segment (in prompt order, then time)."""

        def __init__(self, index: int) -> None:
            """Carry the segment's index in the flattened list."""
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty list."""
        super().__init__(id=id)
        self._rows: list[SegmentRow] = []

    def update_rows(self, rows: Sequence[SegmentRow]) -> None:
        """Show ``rows``, keeping the highlighted segment where it was if it still exists."""
        rows = list(rows)
        if rows == self._rows:
            return
        self._rows = rows
        keep = self.highlighted
        self.clear_options()
        options: list[Option] = []
        index = 0
        for row in rows:
            head = Text(no_wrap=True, overflow="ellipsis")
            head.append("■ ", style="rgb({},{},{})".format(*row.color))
            head.append(row.prompt, style="bold")
            options.append(Option(head, disabled=True))
            if not row.spans:
                why = f"  no segment: {row.reason}" if row.reason else "  no segment"
                options.append(Option(Text(why, style="dim italic"), disabled=True))
            for start, end, peak_s, peak in row.spans:
                line = Text(no_wrap=True, overflow="ellipsis")
                line.append(f"  {format_clock(start, True)}–{format_clock(end, True)}")
                line.append(f"  {peak:.3f} @ {format_clock(peak_s, True)}", style="dim")
                options.append(Option(line, id=f"segment-{index}"))
                index += 1
        if not options:
            options.append(Option(Text("No prompt shown.", style="italic"), disabled=True))
        self.add_options(options)
        if keep is not None and keep < self.option_count:
            self.highlighted = keep

    def on_focus(self) -> None:
        """Arriving in the list highlights its first segment, so enter works at once."""
        if self.highlighted is None:
            first = next(
                (i for i in range(self.option_count) if not self.get_option_at_index(i).disabled),
                None,
            )
            if first is not None:
                self.highlighted = first

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a segment: tell the screen which one."""
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("segment-"):
            self.post_message(self.Chosen(int(option_id.removeprefix("segment-"))))

    def action_leave(self) -> None:
        """Give the keys back to the player (esc)."""
        self.screen.set_focus(None)
