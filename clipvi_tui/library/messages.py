"""Typed, past-tense messages that the library's jobs post to the library screen."""

from __future__ import annotations

from textual.message import Message

from clipvi_tui.core.library import LibraryEntry


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
