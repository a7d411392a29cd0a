"""The library screen's background jobs, as plain functions run on worker threads.

LMDB allows one open environment per directory and process, and a player opened from the
library opens the cache itself. So library jobs open the cache only for the moment they read it,
through a :class:`CacheGate` that the screen closes before a player opens and reopens after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual.message import Message

from clipvi_tui.core.cache import CacheError, EmbeddingCache
from clipvi_tui.core.library import library_entry
from clipvi_tui.library.messages import EntryScanned, ScanFailed, ScanFinished

Post = Callable[[Message], Any]
Cancelled = Callable[[], bool]


class GateClosed(Exception):
    """The cache is handed over to a player; the job stops."""


class CacheGate:
    """Lets library jobs open the cache briefly, and a player take it over in between."""

    def __init__(self, directory: Path) -> None:
        """Guard the cache in ``directory``."""
        self.directory = directory
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def cache(self) -> Iterator[EmbeddingCache]:
        """The cache, open for the duration of the block.

        Raises:
            GateClosed: if a player holds the cache now.
            CacheError: if the cache cannot be opened.
        """
        with self._lock:
            if self._closed:
                raise GateClosed()
            with EmbeddingCache(self.directory) as cache:
                yield cache

    def close(self) -> None:
        """Wait for the job inside (if any) to leave, then keep every job out."""
        with self._lock:
            self._closed = True

    def reopen(self) -> None:
        """Let jobs open the cache again."""
        with self._lock:
            self._closed = False


def scan(
    videos: Sequence[Path],
    gate: CacheGate,
    model_id: str,
    tag: str,
    sample_fps: float | None,
    post: Post,
    cancelled: Cancelled,
) -> None:
    """Probe every video and count its cached frames, posting one :class:`EntryScanned` each.

    Ends with :class:`ScanFinished`, or :class:`ScanFailed` when the cache cannot be read.
    Stops quietly when cancelled or when a player takes the cache over.
    """
    for position, video in enumerate(videos):
        if cancelled():
            return
        try:
            with gate.cache() as cache:
                entry = library_entry(video, cache, model_id, tag, sample_fps)
        except GateClosed:
            return
        except CacheError as exc:
            post(ScanFailed(str(exc)))
            return
        post(EntryScanned(position, entry))
    post(ScanFinished())
