"""Widgets of the library screen: the video list, the search hits and a status line. Render only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable, Static

from clipvi_tui.core.library import LibraryEntry
from clipvi_tui.core.search import Hit
from clipvi_tui.widgets.chart_math import format_clock


def indexed_label(entry: LibraryEntry | None) -> Text:
    """``✓ 300/300``, ``120/300 40%``, ``– 0/300``, ``✗ unreadable`` or ``…`` (not scanned)."""
    if entry is None:
        return Text("…", style="dim")
    if entry.state == "error":
        return Text("✗ unreadable", style="red")
    if entry.state == "indexed":
        return Text(f"✓ {entry.cached}/{entry.total}", style="green")
    if entry.state == "partial":
        pct = 100 * entry.cached / entry.total if entry.total else 0
        return Text(f"{entry.cached}/{entry.total} {pct:3.0f}%", style="yellow")
    return Text(f"– 0/{entry.total}", style="dim")


def duration_label(entry: LibraryEntry | None) -> Text:
    """``m:ss`` of the video, or ``…`` before the scan reached it."""
    if entry is None or entry.info is None:
        return Text("…" if entry is None else "", style="dim")
    return Text(format_clock(entry.duration), justify="right")


class VideoTable(DataTable[Text]):
    """One row per video: its name (relative to the library root), duration and indexed state."""

    def __init__(self, root: Path | None = None, **kwargs: object) -> None:
        """Show paths relative to ``root`` when they are under it."""
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.root = root

    def on_mount(self) -> None:
        """Set up the columns."""
        self.add_column("Video", key="video")
        self.add_column("Duration", key="duration")
        self.add_column("Indexed", key="indexed")

    def show_videos(self, videos: Sequence[Path], entries: Sequence[LibraryEntry | None]) -> None:
        """Replace every row, keeping the cursor where it was."""
        row = self.cursor_row
        self.clear()
        for i, (video, entry) in enumerate(zip(videos, entries, strict=True)):
            self.add_row(
                Text(relative_name(video, self.root)),
                duration_label(entry),
                indexed_label(entry),
                key=str(i),
            )
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1))

    def update_entry(self, position: int, entry: LibraryEntry) -> None:
        """Refresh the duration and indexed cells of one row."""
        key = str(position)
        self.update_cell(key, "duration", duration_label(entry))
        self.update_cell(key, "indexed", indexed_label(entry), update_width=True)


class HitTable(DataTable[Text]):
    """The best moments of a library search: rank, video, time, score and the moment's span."""

    def __init__(self, root: Path | None = None, **kwargs: object) -> None:
        """Show videos relative to ``root`` when they are under it."""
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.root = root

    def on_mount(self) -> None:
        """Set up the columns."""
        for label, key in (("#", "rank"), ("Video", "video"), ("Time", "time")):
            self.add_column(label, key=key)
        self.add_column("Score", key="score")
        self.add_column("Moment", key="span")

    def show_hits(self, hits: Sequence[Hit]) -> None:
        """Replace the rows with ``hits``, best first; the cursor goes to the first."""
        self.clear()
        for rank, h in enumerate(hits, 1):
            span = f"{format_clock(h.start_s, precise=True)}–{format_clock(h.end_s, precise=True)}"
            self.add_row(
                Text(str(rank), justify="right"),
                Text(relative_name(Path(h.video), self.root)),
                Text(format_clock(h.time_s, precise=True), justify="right"),
                Text(f"{h.score:.3f}", justify="right"),
                Text(span, style="dim"),
                key=str(rank - 1),
            )
        if self.row_count:
            self.move_cursor(row=0)


def relative_name(video: Path, root: Path | None) -> str:
    """``video`` relative to ``root`` when it lies under it, else its file name."""
    if root is not None:
        try:
            return str(video.relative_to(root))
        except ValueError:
            pass
    return video.name


class LibraryStatus(Static):
    """One line under the lists: the library's summary and what is going on."""

    DEFAULT_CSS = """
    LibraryStatus {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """
