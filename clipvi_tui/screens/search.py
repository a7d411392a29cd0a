"""The search box: a query, the k best moments of the video for it, enter seeks.

The screen does not embed or rank itself: ``start_query(text, post)`` embeds the query in a
worker (it posts :class:`QueryEmbedded` or :class:`QueryFailed` to this screen through ``post``),
and ``rank(vector)`` gives the moments, with the same core search as ``clipvi-tui search``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from clipvi_tui.core.search import Hit
from clipvi_tui.player.messages import QueryEmbedded, QueryFailed
from clipvi_tui.widgets.chart_math import format_clock

StartQuery = Callable[[str, Callable[[Message], object]], bool]


@dataclass(frozen=True)
class SearchChoice:
    """What the user picked: a hit to seek to, or the query to keep as a prompt."""

    query: str
    hit: Hit | None = None
    keep: bool = False


class SearchScreen(ModalScreen[SearchChoice | None]):
    """Type a query, enter: the best moments are listed; enter on one seeks there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close search", id="search.close"),
        Binding("ctrl+s,p", "keep", "Keep the query as a prompt", id="search.keep"),
    ]

    def __init__(
        self, start_query: StartQuery, rank: Callable[[np.ndarray], list[Hit]], k: int
    ) -> None:
        """Embed queries with ``start_query``, rank moments with ``rank``; list up to ``k``."""
        super().__init__()
        self.start_query = start_query
        self.rank = rank
        self.k = k
        self.query_text = ""
        self.hits: list[Hit] = []

    def compose(self) -> ComposeResult:
        """The query box, the result list and a hint line."""
        with Vertical(id="search-box"):
            yield Label(f"Find the {self.k} best moments for (enter searches, esc closes):")
            yield Input(placeholder="e.g. a red circle", id="search-input")
            yield OptionList(id="search-hits")
            yield Static(
                Text("enter on a moment seeks there · p or ctrl+s keeps the query", style="dim"),
                id="search-note",
            )

    def on_mount(self) -> None:
        """Title the box and focus the query."""
        self.query_one("#search-box").border_title = "Search moments"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run the query (the results arrive through :meth:`show_hits`)."""
        event.stop()
        text = " ".join(event.value.split())
        if not text:
            return
        self.query_text = text
        self._note(f"searching for “{text}”…")
        if not self.start_query(text, self.post_message):
            self.show_error(text, "the Inference server is not ready yet")

    @on(QueryEmbedded)
    def _query_embedded(self, message: QueryEmbedded) -> None:
        self.show_hits(message.text, self.rank(message.vector))

    @on(QueryFailed)
    def _query_failed(self, message: QueryFailed) -> None:
        self.show_error(message.text, message.reason)

    def show_hits(self, query: str, hits: Sequence[Hit]) -> None:
        """List the moments found for ``query`` (ignored if another query was typed since)."""
        if query != self.query_text:
            return
        self.hits = list(hits)
        results = self.query_one("#search-hits", OptionList)
        results.clear_options()
        for rank, h in enumerate(self.hits, 1):
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"{rank:2d}  {h.score:6.3f}  {format_clock(h.time_s, True):>7}")
            span = f"{format_clock(h.start_s, True)}–{format_clock(h.end_s, True)}"
            line.append(f"   frame {h.frame}  ({span})", style="dim")
            results.add_option(Option(line, id=f"hit-{rank - 1}"))
        if self.hits:
            self._note("enter on a moment seeks there · p or ctrl+s keeps the query")
            results.highlighted = 0
            results.focus()
        else:
            self._note("no frame is embedded yet")

    def show_error(self, query: str, reason: str) -> None:
        """Say why ``query`` could not be searched."""
        if query == self.query_text:
            self._note(f"cannot search: {reason}")

    def _note(self, text: str) -> None:
        self.query_one("#search-note", Static).update(Text(text, style="dim"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Seek to the chosen moment."""
        event.stop()
        index = int((event.option.id or "hit-0").removeprefix("hit-"))
        self.dismiss(SearchChoice(self.query_text, hit=self.hits[index]))

    def action_keep(self) -> None:
        """Close and add the query as a prompt."""
        text = self.query_text or " ".join(self.query_one(Input).value.split())
        if text:
            self.dismiss(SearchChoice(text, keep=True))

    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)
