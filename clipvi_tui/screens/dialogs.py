"""Modal screens: the help screen (every key), the add-prompt and the threshold input boxes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from clipvi_tui.widgets.commands import as_binding, key_label

# Mouse actions are not bindings, so the help screen lists them from here.
MOUSE_HELP = (
    ("click chart", "Seek to the frame under that column"),
    ("drag on chart", "Scrub: seek continuously while the button is held"),
    ("wheel on chart", "Zoom the time axis in / out around the playhead"),
    ("click video", "Play / pause"),
    ("click prompt", "Select it; on its colour swatch: show / hide its line"),
)


def help_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(keys, what it does)`` for every binding that has a description (its tooltip, the
    longer wording, when it has one: the footer's short description is for the footer)."""
    rows: list[tuple[str, str]] = []
    for binding in map(as_binding, bindings):
        if binding.description:
            rows.append((key_label(binding), binding.tooltip or binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    """Lists every key of the player and the app; any of esc, q, ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close help", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        """Show ``rows`` (from :func:`help_rows`) and the mouse actions."""
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        """A bordered table of keys."""
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, text in [*self.rows, *MOUSE_HELP]:
            table.add_row(keys, text)
        with VerticalScroll(id="help-box"):
            yield Static(table, id="help-table")

    def on_mount(self) -> None:
        """Title the box; the way out sits on its bottom edge, visible however long the list."""
        box = self.query_one("#help-box")
        box.border_title = "Keys"
        box.border_subtitle = "esc, q or ? closes this help"

    def action_dismiss_help(self) -> None:
        """Close the help screen."""
        self.dismiss(None)


class PromptDialog(ModalScreen[str | None]):
    """Asks for a new text prompt; enter adds it, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel")
    ]

    def compose(self) -> ComposeResult:
        """An input box with a short hint."""
        with Vertical(id="prompt-box"):
            yield Label("Describe what to look for (enter adds, esc cancels):")
            yield Input(placeholder="e.g. a person riding a bicycle", id="prompt-input")

    def on_mount(self) -> None:
        """Title the box and focus the input."""
        self.query_one("#prompt-box").border_title = "Add prompt"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the trimmed text (None for an empty box)."""
        event.stop()
        text = " ".join(event.value.split())
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        """Close without adding anything."""
        self.dismiss(None)


class ThresholdDialog(ModalScreen[str | None]):
    """Asks for a prompt's threshold in the current view: a number, or ``auto``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="threshold.cancel")
    ]

    def __init__(self, prompt: str, view: str, current: float | None) -> None:
        """Ask for ``prompt``'s threshold in ``view``, starting from ``current`` (None: auto)."""
        super().__init__()
        self.prompt = prompt
        self.view = view
        self.current = current

    def compose(self) -> ComposeResult:
        """An input box with the current value."""
        value = "auto" if self.current is None else f"{self.current:g}"
        with Vertical(id="threshold-box"):
            yield Label(f"Threshold of “{self.prompt}” in the {self.view} view:")
            yield Label("a number in the view's units, or auto (enter sets, esc cancels)")
            yield Input(value=value, id="threshold-input")

    def on_mount(self) -> None:
        """Title the box and focus the input."""
        self.query_one("#threshold-box").border_title = "Threshold"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the text as typed (the player parses it)."""
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
