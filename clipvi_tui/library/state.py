"""What the library screen knows: its videos, how far each is indexed, and a one-line summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from clipvi_tui.core.library import LibraryEntry
from clipvi_tui.core.search import Hit


@dataclass
class LibraryState:
    """The library's videos, in order, and what a scan found about each (None: not yet).

    Attributes:
        videos: the video files.
        entries: one per video, filled in as the scan reports.
        scanning: a scan is running.
        error: why the last scan failed, if it did.
    """

    videos: list[Path]
    entries: list[LibraryEntry | None] = field(default_factory=list)
    scanning: bool = False
    error: str | None = None
    query: str = ""  # the query typed last
    searching: bool = False
    hits: list[Hit] = field(default_factory=list)
    hits_query: str = ""  # the query the hits answer
    searched: int = 0  # videos the hits were ranked across

    def __post_init__(self) -> None:
        if len(self.entries) != len(self.videos):
            self.entries = [None] * len(self.videos)

    def set_entry(self, position: int, entry: LibraryEntry) -> None:
        """Record what the scan found for the video at ``position``."""
        self.entries[position] = entry

    def set_hits(self, query: str, hits: list[Hit], searched: int) -> None:
        """Record the moments found for ``query`` across ``searched`` videos."""
        self.hits, self.hits_query, self.searched = list(hits), query, searched
        self.searching = False

    def position_of(self, video: str) -> int | None:
        """The list position of the video a hit names (hits carry the path as text)."""
        for i, path in enumerate(self.videos):
            if str(path) == video:
                return i
        return None

    def search_summary(self) -> str:
        """``searching “x”…``, ``8 moments for “x” in 3 indexed videos``, or ''."""
        if self.searching:
            return f"searching “{self.query}”…"
        if not self.hits_query:
            return ""
        if not self.searched:
            return "no video is indexed yet: nothing to search"
        n = len(self.hits)
        videos = f"{self.searched} indexed video{'s' if self.searched != 1 else ''}"
        return f"{n} moment{'s' if n != 1 else ''} for “{self.hits_query}” in {videos}"

    def summary(self) -> str:
        """``5 videos: 3 indexed, 1 partly, 1 not yet`` (plus ``scanning…`` while it runs)."""
        counts = Counter(e.state for e in self.entries if e is not None)
        parts = [
            f"{counts[state]} {label}"
            for state, label in (
                ("indexed", "indexed"),
                ("partial", "partly indexed"),
                ("new", "not indexed"),
                ("error", "unreadable"),
            )
            if counts[state]
        ]
        n = len(self.videos)
        text = f"{n} video{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")
        if self.scanning:
            text += " · scanning…"
        return text

    @property
    def unindexed(self) -> int:
        """Videos with sampled frames still missing from the cache."""
        return sum(1 for e in self.entries if e is not None and e.state in ("new", "partial"))
