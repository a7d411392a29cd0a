"""Typed, past-tense messages that worker threads post to the player screen.

Workers never touch widgets or reactives; they post one of these (``post_message`` is
thread-safe) and a handler on the UI thread updates state. High-rate messages implement
``can_replace`` so a backlog collapses into the newest one.

Two families: the frame decoder's (:class:`FrameDecoded`, :class:`FrameFailed`), which the screen
paints, and the background services' (subclasses of :class:`ServiceReport`), which the screen
hands to :class:`~clipvi_tui.player.background.BackgroundWork` to apply.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from textual.message import Message

if TYPE_CHECKING:
    from clipvi_tui.core.indexer import Progress
    from clipvi_tui.player.frames import DecodedFrame, FrameRequest


class FrameDecoded(Message):
    """A frame was decoded and scaled for the video box."""

    def __init__(self, decoded: DecodedFrame, *, preview: bool = False) -> None:
        """Carry ``decoded`` (image, geometry and the request it answers).

        ``preview``: a stand-in (the nearest sampled frame's thumbnail) shown while the exact
        frame is being decoded; the exact frame follows in another FrameDecoded.
        """
        super().__init__()
        self.decoded = decoded
        self.preview = preview


class FrameFailed(Message):
    """A frame could not be decoded (truncated file, overstated frame count)."""

    def __init__(self, request: FrameRequest, error: str) -> None:
        """Say which request failed and why."""
        super().__init__()
        self.request = request
        self.error = error


class ServiceReport(Message):
    """Base of every message a background service job posts (cache, server, indexer, prompts)."""


class CacheLoaded(ServiceReport):
    """Vectors already in the cache for this video were read (sent once at start)."""

    def __init__(self, indices: np.ndarray, vectors: np.ndarray) -> None:
        """Carry the cached frame indices and their vectors."""
        super().__init__()
        self.indices = indices
        self.vectors = vectors


class EmbeddedServerPrepared(ServiceReport):
    """A local server should start; the UI (main) thread launches it and sets ``launched``.

    Launching from the main thread lets the child die with the app even if the app is killed
    (``embedded.die_with_parent`` only works for children of the main thread), which matters
    when an SSH connection drops and takes the app with it.
    """

    def __init__(self, server: Any, launched: threading.Event) -> None:
        """Carry the not-yet-started server and the event to set once it was launched."""
        super().__init__()
        self.server = server
        self.launched = launched
        self.error: BaseException | None = None


class ServicesReady(ServiceReport):
    """The cache is open and an embedding client exists: indexing and prompts can start."""

    def __init__(self, cache: Any, client: Any, fingerprint: str) -> None:
        """Hand over the cache, the client and the video's cache key."""
        super().__init__()
        self.cache = cache
        self.client = client
        self.fingerprint = fingerprint


class ServicesFailed(ServiceReport):
    """The cache could not be opened: the player still plays, without scores."""

    def __init__(self, error: str) -> None:
        """Carry the one-line reason."""
        super().__init__()
        self.error = error


class IndexerStarted(ServiceReport):
    """The background indexer exists; the screen may now steer it with the playhead."""

    def __init__(self, indexer: Any) -> None:
        """Hand over the :class:`~clipvi_tui.core.indexer.Indexer`."""
        super().__init__()
        self.indexer = indexer


class EmbeddingsStored(ServiceReport):
    """The indexer stored vectors for these frames (never coalesced: each one adds data)."""

    def __init__(self, indices: np.ndarray, vectors: np.ndarray) -> None:
        """Carry the new frame indices and their (normalised) vectors."""
        super().__init__()
        self.indices = indices
        self.vectors = vectors


class IndexProgressed(ServiceReport):
    """Indexing progress changed; a newer report replaces any still waiting."""

    def __init__(self, progress: Progress) -> None:
        """Carry the indexer's :class:`~clipvi_tui.core.indexer.Progress`."""
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        """Only the newest progress matters."""
        return isinstance(message, IndexProgressed)


class PromptEmbedded(ServiceReport):
    """A prompt's text vector is known (from the cache or the server)."""

    def __init__(self, text: str, vector: np.ndarray) -> None:
        """Carry the prompt and its vector."""
        super().__init__()
        self.text = text
        self.vector = vector


class PromptRejected(ServiceReport):
    """The server refused a prompt (e.g. longer than CLIP's 77 tokens); it will not be retried."""

    def __init__(self, text: str, reason: str) -> None:
        """Carry the prompt and the server's reason."""
        super().__init__()
        self.text = text
        self.reason = reason


class PromptDeferred(ServiceReport):
    """A prompt could not be embedded now (server down); it is retried later."""

    def __init__(self, text: str, reason: str) -> None:
        """Carry the prompt and why it waits."""
        super().__init__()
        self.text = text
        self.reason = reason


class ServerStateChanged(ServiceReport):
    """What we know about the Inference server changed.

    ``state`` is one of ``unknown``, ``starting``, ``connected``, ``retrying``, ``unreachable``,
    ``failed``; ``detail`` is a one-line explanation (may be empty).
    """

    def __init__(self, state: str, detail: str = "") -> None:
        """Carry the new state and its explanation."""
        super().__init__()
        self.state = state
        self.detail = detail

    def can_replace(self, message: Message) -> bool:
        """Only the newest state matters."""
        return isinstance(message, ServerStateChanged)


class QueryEmbedded(Message):
    """A search query's text vector is known (the search box's results can be computed)."""

    def __init__(self, text: str, vector: np.ndarray) -> None:
        """Carry the query and its vector."""
        super().__init__()
        self.text = text
        self.vector = vector


class QueryFailed(Message):
    """A search query could not be embedded (server down, refused text)."""

    def __init__(self, text: str, reason: str) -> None:
        """Carry the query and the one-line reason."""
        super().__init__()
        self.text = text
        self.reason = reason


class ServerPoolChanged(ServiceReport):
    """How many of the configured servers are up changed, or the pool has news for the user.

    ``note`` (may be empty) is a one-line event such as a server set aside, back, refused, or a
    smaller batch that works; a report without a note may be replaced by a newer one.
    """

    def __init__(self, up: int, total: int, note: str = "") -> None:
        """Carry the counts and the news."""
        super().__init__()
        self.up = up
        self.total = total
        self.note = note

    def can_replace(self, message: Message) -> bool:
        """A newer count replaces an older one, but never drops news."""
        return isinstance(message, ServerPoolChanged) and not message.note


class CacheFailed(ServiceReport):
    """The cache stopped taking writes (disk full, damaged file): an error state, not a retry."""

    def __init__(self, error: str) -> None:
        """Carry the one-line reason (it names the cache folder)."""
        super().__init__()
        self.error = error
