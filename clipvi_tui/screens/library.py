"""The library screen: every video of a folder, its duration and how far it is indexed, and a
search box for the best moments across all of them.

Selecting a video (enter, a click on the selected row, or ``o``) asks the app to open it in the
player; selecting a search hit opens its video at that moment, with the query as a prompt. Back
in the list, the videos' state is read again (the player may have indexed more) and the hits
are still there. The scan and the search run on worker threads and post what they find.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input
from textual.worker import get_current_worker

from clipvi_tui.config import Settings
from clipvi_tui.core.library import LibraryEntry
from clipvi_tui.core.prompts import canonical_prompt
from clipvi_tui.library import jobs
from clipvi_tui.library.messages import (
    EntryScanned,
    LibrarySearched,
    LibrarySearchFailed,
    ScanFailed,
    ScanFinished,
)
from clipvi_tui.library.state import LibraryState
from clipvi_tui.player.context import ClientFactory
from clipvi_tui.widgets.library import HitTable, LibraryStatus, VideoTable


@dataclass
class LibraryConfig:
    """What the library screen needs, all injectable for tests.

    Attributes:
        settings: validated settings (cache dir, sampling rate, model).
        videos: the library's video files, in order.
        root: the folder the library was opened on (names are shown relative to it).
        client_factory: builds the embedding client for an API URL.
    """

    settings: Settings
    videos: list[Path]
    root: Path | None
    client_factory: ClientFactory


class LibraryScreen(Screen[None]):
    """The videos of a library, with their duration and indexed state."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,f", "search", "Search", key_display="/", id="library.search"),
        Binding("o", "open", "Open", id="library.open"),
        Binding("r", "rescan", "Refresh", id="library.refresh"),
        Binding("escape", "leave", "Back to the list", show=False, id="library.leave"),
    ]

    class OpenVideo(Message):
        """The user picked a video (and a moment in it) to watch."""

        def __init__(self, entry: LibraryEntry, seconds: float = 0.0, prompt: str = "") -> None:
            """Carry the video's entry, where to start, and a prompt to show (may be empty)."""
            super().__init__()
            self.entry = entry
            self.seconds = seconds
            self.prompt = prompt

    def __init__(self, config: LibraryConfig) -> None:
        """Create the screen for ``config`` (the scan starts when it is mounted)."""
        super().__init__()
        self.config = config
        self.state = LibraryState(list(config.videos))
        self.gate = jobs.CacheGate(config.settings.cache_dir)
        # Built once: its model id and preprocessing name the cache entries to count.
        self.client = config.client_factory(config.settings.api_url)

    def compose(self) -> ComposeResult:
        """The search box, the video list beside the hits, a status line and the keys."""
        yield Input(
            placeholder="search the library, e.g. a red circle (enter)", id="library-search"
        )
        with Horizontal(id="library-lists"):
            yield VideoTable(self.config.root, id="videos")
            yield HitTable(self.config.root, id="hits")
        yield LibraryStatus(id="library-status")
        yield Footer()

    def on_mount(self) -> None:
        """Fill in the names at once, then scan."""
        table = self.query_one("#videos", VideoTable)
        where = str(self.config.root) if self.config.root else "library"
        table.border_title = f"{where} — {self.client.model_id}"
        self.query_one("#hits", HitTable).border_title = "Moments"
        table.show_videos(self.state.videos, self.state.entries)
        table.focus()
        self.action_rescan()

    # -- actions ------------------------------------------------------------------------------

    def action_rescan(self) -> None:
        """Read every video's state again (a worker; rows update as it goes)."""
        self.state.scanning, self.state.error = True, None
        self._refresh_status()
        settings = self.config.settings
        videos = list(self.state.videos)
        model_id, tag = self.client.model_id, self.client.preprocess_tag

        def scan() -> None:
            worker = get_current_worker()
            jobs.scan(
                videos,
                self.gate,
                model_id,
                tag,
                settings.sample_fps,
                self.post_message,
                lambda: worker.is_cancelled,
            )

        self.run_worker(scan, name="library scan", group="scan", thread=True, exclusive=True)

    def action_open(self) -> None:
        """Open what the cursor is on: a hit at its moment (hits focused), else a video."""
        hits = self.query_one("#hits", HitTable)
        if hits.has_focus and hits.row_count:
            self.open_hit(hits.cursor_row)
            return
        table = self.query_one("#videos", VideoTable)
        if table.row_count:
            self.open_video(table.cursor_row)

    def action_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#library-search", Input).focus()

    def action_leave(self) -> None:
        """From the search box or the hits, back to the video list."""
        self.query_one("#videos", VideoTable).focus()

    @on(DataTable.RowSelected, "#videos")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_video(event.cursor_row)

    @on(DataTable.RowSelected, "#hits")
    def _hit_selected(self, event: DataTable.RowSelected) -> None:
        self.open_hit(event.cursor_row)

    @on(Input.Submitted, "#library-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        query = canonical_prompt(event.value)
        if query:
            self.search(query)

    def search(self, query: str) -> None:
        """Rank ``query``'s best moments across the indexed videos (a worker; hits follow)."""
        self.state.query, self.state.searching = query, True
        self._refresh_status()
        entries = list(self.state.entries)
        settings = self.config.settings

        def run() -> None:
            worker = get_current_worker()
            jobs.search_library(
                query,
                entries,
                self.client,
                self.gate,
                settings,
                self.post_message,
                lambda: worker.is_cancelled,
            )

        self.run_worker(run, name="library search", group="search", thread=True, exclusive=True)

    def open_hit(self, rank: int) -> None:
        """Open the video of hit ``rank`` at its moment, with the query as a prompt."""
        hit = self.state.hits[rank]
        position = self.state.position_of(hit.video)
        if position is not None:
            self.open_video(position, seconds=hit.time_s, prompt=self.state.hits_query)

    def open_video(self, position: int, seconds: float = 0.0, prompt: str = "") -> None:
        """Ask the app to play the video at ``position`` from ``seconds``, if it can be played."""
        entry = self.state.entries[position]
        if entry is None:
            self.notify("Still reading that video; try again in a moment.", timeout=4)
            return
        if entry.error is not None:
            self.notify(f"Cannot play {entry.path.name}: {entry.error}", severity="error")
            return
        self.hand_over_cache()
        self.post_message(self.OpenVideo(entry, seconds, prompt))

    # -- the cache, shared with the player ----------------------------------------------------

    def hand_over_cache(self) -> None:
        """Stop the jobs and keep them out of the cache (a player is about to open it)."""
        self.workers.cancel_group(self, "scan")
        self.workers.cancel_group(self, "search")
        self.gate.close()
        self.state.scanning = self.state.searching = False

    def take_back_cache(self) -> None:
        """The player closed: let jobs in again and read the videos' state again."""
        self.gate.reopen()
        self.action_rescan()

    # -- reports ------------------------------------------------------------------------------

    @on(EntryScanned)
    def _entry_scanned(self, message: EntryScanned) -> None:
        self.state.set_entry(message.position, message.entry)
        self.query_one("#videos", VideoTable).update_entry(message.position, message.entry)
        self._refresh_status()

    @on(ScanFinished)
    def _scan_finished(self) -> None:
        self.state.scanning = False
        self._refresh_status()

    @on(ScanFailed)
    def _scan_failed(self, message: ScanFailed) -> None:
        self.state.scanning, self.state.error = False, message.error
        self.notify(f"Cannot read the cache: {message.error}", severity="error", timeout=8)
        self._refresh_status()

    @on(LibrarySearched)
    def _searched(self, message: LibrarySearched) -> None:
        if message.query != self.state.query:
            return  # an older query, overtaken by a newer one
        self.state.set_hits(message.query, message.hits, message.searched)
        hits = self.query_one("#hits", HitTable)
        hits.show_hits(message.hits)
        hits.border_title = f"Moments for “{message.query}”"
        if message.hits:
            hits.focus()
        if message.note:
            self.notify(message.note, timeout=6)
        self._refresh_status()

    @on(LibrarySearchFailed)
    def _search_failed(self, message: LibrarySearchFailed) -> None:
        if message.query != self.state.query:
            return
        self.state.searching = False
        self.notify(f"Cannot search “{message.query}”: {message.reason}", severity="error")
        self._refresh_status()

    def _refresh_status(self) -> None:
        text = self.state.summary()
        if self.state.search_summary():
            text += " │ " + self.state.search_summary()
        if self.state.unindexed and not self.state.scanning:
            text += " │ `clipvi-tui index FOLDER` embeds the rest"
        if self.state.error:
            text += f" · {self.state.error}"
        self.query_one("#library-status", LibraryStatus).update(Text(text))
