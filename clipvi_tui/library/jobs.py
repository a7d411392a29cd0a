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

import numpy as np
from textual.message import Message

from clipvi_tui.config import Settings
from clipvi_tui.core.cache import CacheError, EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError
from clipvi_tui.core.library import LibraryEntry, entry_vectors, library_entry
from clipvi_tui.core.prompts import all_parts, ensemble_vectors
from clipvi_tui.core.search import query_curve, search
from clipvi_tui.library.messages import (
    EntryScanned,
    LibrarySearched,
    LibrarySearchFailed,
    ScanFailed,
    ScanFinished,
)

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


def search_view(settings: Settings, query: str) -> tuple[str, list[str], str]:
    """The view a library search ranks in, the prompts the query competes with, and a remark.

    As ``clipvi-tui search``: ``softmax`` ranks the query against the other prompts,
    ``baseline`` against the baseline prompts. Without them the search falls back to raw
    cosine and says so (the command line refuses instead; here there is nobody to ask).
    """
    view = settings.view
    if view == "softmax":
        others = [p for p in settings.prompts if p != query]
        if others:
            return view, others, ""
        return "raw", [], "softmax needs other prompts (-p) to compete with: ranked by raw cosine"
    if view == "baseline":
        if settings.baseline_prompts:
            return view, list(settings.baseline_prompts), ""
        return "raw", [], "the baseline view needs baseline_prompts: ranked by raw cosine"
    return view, [], ""


def search_library(
    query: str,
    entries: Sequence[LibraryEntry | None],
    client: EmbeddingClient,
    gate: CacheGate,
    settings: Settings,
    post: Post,
    cancelled: Cancelled,
) -> None:
    """Rank ``query``'s best moments across the indexed videos (what the cache holds).

    The query is embedded cache first; the server is called outside the cache gate so that
    opening a player never waits for it. Posts :class:`LibrarySearched` or
    :class:`LibrarySearchFailed`.
    """
    view, competitors, note = search_view(settings, query)
    texts = [query, *competitors]
    parts = all_parts(texts)
    usable = [e for e in entries if e is not None and e.error is None and e.cached]
    model, tag = client.model_id, client.preprocess_tag
    try:
        with gate.cache() as cache:
            found, _ = cache.get_texts(model, parts)
        missing = [p for p, ok in zip(parts, found, strict=True) if not ok]
        fresh = client.embed_texts(missing) if missing else None
        if cancelled():
            return
        with gate.cache() as cache:
            if fresh is not None:
                cache.put_texts(model, missing, fresh)
            _, vectors = cache.get_texts(model, parts)
            videos = [entry_vectors(cache, e, model, tag, settings.sample_fps) for e in usable]
    except GateClosed:
        return
    except (EmbeddingError, CacheError, ValueError) as exc:
        post(LibrarySearchFailed(query, str(exc)))
        return
    row = {p: i for i, p in enumerate(parts)}
    queries = ensemble_vectors(texts, lambda ps: np.asarray(vectors[[row[p] for p in ps]]))
    hits = search([query_curve(v, queries, view) for v in videos], settings.search_k)
    post(LibrarySearched(query, hits, len(videos), note))
