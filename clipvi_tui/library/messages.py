"""Typed, past-tense messages that the library's jobs post to the library screen."""

from __future__ import annotations

from textual.message import Message

from clipvi_tui.core.library import LibraryEntry
from clipvi_tui.core.search import Hit


class LibraryReport(Message):
    """Base of everything the library's jobs report."""


class EntryScanned(LibraryReport):
    """One video was probed and its cached frames counted."""

    def __init__(self, position: int, entry: LibraryEntry) -> None:
        """Carry the video's place in the list and what was found."""
        super().__init__()
        self.position = position
        self.entry = entry


class ScanFinished(LibraryReport):
    """Every video of the library was scanned."""


class ScanFailed(LibraryReport):
    """The library could not be scanned (e.g. the cache is busy or unreadable)."""

    def __init__(self, error: str) -> None:
        """Carry the one-line reason."""
        super().__init__()
        self.error = error


class LibrarySearched(LibraryReport):
    """A query was ranked across the library's indexed videos."""

    def __init__(self, query: str, hits: list[Hit], searched: int, note: str = "") -> None:
        """Carry the query, its best moments, how many videos were searched, and a remark."""
        super().__init__()
        self.query = query
        self.hits = hits
        self.searched = searched
        self.note = note


class LibrarySearchFailed(LibraryReport):
    """A query could not be searched (the server is down, the text was refused, …)."""

    def __init__(self, query: str, reason: str) -> None:
        """Carry the query and the one-line reason."""
        super().__init__()
        self.query = query
        self.reason = reason
