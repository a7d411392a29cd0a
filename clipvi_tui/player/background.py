"""The player's background work: services, indexing and prompt embedding, owned by the screen.

Composition, not a mixin: the player screen owns one :class:`BackgroundWork`. It starts the
thread workers through the screen (so they belong to it and are cancelled with it); the worker
bodies in :mod:`~clipvi_tui.player.services` post typed messages to the screen; the screen hands
each :class:`~clipvi_tui.player.messages.ServiceReport` back to :meth:`BackgroundWork.apply`,
which updates the state kept here and says what the screen must redraw. Nothing here touches a
widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from textual.message import Message
from textual.timer import Timer
from textual.worker import get_current_worker

from clipvi_tui.core.cache import CacheError
from clipvi_tui.core.indexer import Indexer
from clipvi_tui.player import services, text_jobs
from clipvi_tui.player.context import CANCEL_GRACE_S, Abandoned, PlayerConfig, ServiceHandles
from clipvi_tui.player.messages import (
    CacheFailed,
    CacheLoaded,
    EmbeddedServerPrepared,
    EmbeddingsStored,
    IndexerStarted,
    IndexProgressed,
    PromptDeferred,
    PromptEmbedded,
    PromptRejected,
    ServerPoolChanged,
    ServerStateChanged,
    ServiceReport,
    ServicesFailed,
    ServicesReady,
)
from clipvi_tui.player.scoreboard import PENDING, REJECTED, ScoreBoard

# A deferred prompt is retried after this long (sooner if the server comes back).
PROMPT_RETRY_S = 3.0

Notify = Callable[[str, str], None]  # (message, severity)


class WorkerHost(Protocol):
    """What :class:`BackgroundWork` needs from the screen that owns it."""

    def run_worker(
        self,
        work: Callable[[], None],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Any:
        """Start ``work`` as a Textual worker belonging to the host."""
        ...

    def post_message(self, message: Message) -> bool:
        """Post ``message`` to the host (thread-safe)."""
        ...

    def set_timer(self, delay: float, callback: Callable[[], None] | None = None) -> Timer:
        """Call ``callback`` once after ``delay`` seconds, on the UI thread."""
        ...


@dataclass(frozen=True)
class Redraw:
    """What a report changed, so the screen redraws only that.

    Attributes:
        board: scores or prompts changed (chart and prompt panel).
        live: the board change is new embeddings from live indexing (drawn within a second).
        status: the status bar changed.
    """

    board: bool = False
    live: bool = False
    status: bool = False


class BackgroundWork:
    """Runs the player's services, indexer and prompt embedding, and keeps what they report."""

    def __init__(
        self, host: WorkerHost, config: PlayerConfig, board: ScoreBoard, notify: Notify
    ) -> None:
        """Prepare the jobs for ``config``; nothing starts until :meth:`start`.

        Args:
            host: the screen that runs the workers and receives their messages.
            config: what to play and how to reach the server.
            board: the score board the reports fill (shared with the screen).
            notify: shows a one-line message to the user.
        """
        self.host = host
        self.config = config
        self.board = board
        self._notify = notify
        self.handles = ServiceHandles()
        self.ready: ServicesReady | None = None
        self.indexer: Indexer | None = None
        self.server_state = "unknown"
        self.index_done = 0
        self.index_rate = 0.0
        self.index_state = "waiting"
        self.servers_up = 0  # of several configured servers, how many are not set aside
        self.servers_total = 0
        self.cache_error = ""  # set when the cache cannot be opened or written: an error state
        self.playhead = 0  # the raw frame the indexer should embed from next
        self._in_flight_prompts: set[str] = set()
        self._retry_timer: Timer | None = None
        # Messages already shown since the server was last fine: retry loops repeat themselves.
        self._shown: set[str] = set()
        self.shut_down = False

    # -- control ------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the cache and start the services (a worker); indexing follows when ready."""
        self.host.run_worker(
            self._services_job,
            name="services",
            group="services",
            thread=True,
            exit_on_error=False,
        )

    def set_playhead(self, frame: int) -> None:
        """Embed frames from raw ``frame`` onwards next."""
        self.playhead = frame
        if self.indexer is not None:
            self.indexer.set_playhead(frame)

    def thumbnail(self, frame: int) -> bytes | None:
        """The stored thumbnail of sampled ``frame``, if any (any thread; for seek previews)."""
        cache, fp = self.handles.cache, self.config.info.fingerprint
        if cache is None or not fp:
            return None
        try:
            with self.handles.using_cache():
                return cache.get_thumbnail(fp, frame)
        except (Abandoned, CacheError):
            return None

    def embed_pending(self) -> None:
        """Send prompts without a vector (and not already on their way) to a worker."""
        ready = self.ready
        if ready is None or ready.client is None:
            return
        todo = [t for t in self.board.pending() if t not in self._in_flight_prompts]
        if todo:
            self._in_flight_prompts.update(todo)
            self.host.run_worker(
                lambda: self._prompts_job(ready, todo),
                name="prompt embedding",
                group="prompts",
                thread=True,
                exit_on_error=False,
            )

    def embed_query(self, text: str, post: Callable[[Message], Any]) -> bool:
        """Embed a search query in a worker that posts QueryEmbedded/QueryFailed to ``post``.

        Returns:
            False when no server or cache is ready yet (nothing was started).
        """
        ready = self.ready
        if ready is None or ready.client is None:
            return False
        self.host.run_worker(
            lambda: self._query_job(ready, text, post),
            name="search query",
            group="query",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        return True

    def notify_once(self, text: str, severity: str = "information", *, key: str = "") -> None:
        """Notify, but each message only once until the server is fine again.

        ``key`` is what counts as "the same" (default: the text): "Indexing stopped: X" after a
        notification of X says nothing new.
        """
        key = key or text
        if key not in self._shown:
            self._shown.add(key)
            self._notify(text, severity)

    def begin_shutdown(self) -> Any:
        """Stop indexing (idempotent); returns the embedded server to stop after the workers."""
        self.shut_down = True
        with self.handles.lock:
            indexer, server = self.handles.indexer, self.handles.server
        if indexer is not None:
            indexer.cancel()
        return server

    def finish_shutdown(self, server: Any) -> None:
        """Close the cache once no job uses it, then stop an embedded server.

        Cancelled jobs wind down within the grace period unless stuck on a hung server; then the
        cache stays open and closes with the process.
        """
        self.handles.close_cache(timeout=CANCEL_GRACE_S * 2)
        if server is not None:
            server.stop()

    # -- worker bodies (threads) --------------------------------------------------------------

    def _services_job(self) -> None:
        worker = get_current_worker()
        services.start_services(
            self.config, self.handles, self.host.post_message, lambda: worker.is_cancelled
        )

    def _indexer_job(self, ready: ServicesReady, start_frame: int) -> None:
        worker = get_current_worker()
        services.run_indexer(
            self.config,
            self.handles,
            ready,
            start_frame,
            self.host.post_message,
            lambda: worker.is_cancelled,
        )

    def _prompts_job(self, ready: ServicesReady, texts: list[str]) -> None:
        worker = get_current_worker()
        text_jobs.embed_prompts(
            self.handles, ready, texts, self.host.post_message, lambda: worker.is_cancelled
        )

    def _query_job(self, ready: ServicesReady, text: str, post: Callable[[Message], Any]) -> None:
        worker = get_current_worker()
        text_jobs.embed_query(self.handles, ready, text, post, lambda: worker.is_cancelled)

    # -- reports (UI thread) ------------------------------------------------------------------

    def apply(self, message: ServiceReport) -> Redraw:
        """Take in what a job reported; returns what the screen must redraw."""
        handler = self._HANDLERS.get(type(message))
        if handler is None:
            return Redraw()
        return handler(self, message)

    def _cache_loaded(self, message: CacheLoaded) -> Redraw:
        """Whatever the cache already held for this video shows at once."""
        self.board.add_frames(message.indices, message.vectors)
        self.index_done = self.board.embedded
        return Redraw(board=True, status=True)

    def _server_prepared(self, message: EmbeddedServerPrepared) -> Redraw:
        """Start the local server from this (main) thread so it dies with the app."""
        try:
            if not self.shut_down:
                message.server.start()
        except Exception as exc:
            message.error = exc
        finally:
            message.launched.set()
        return Redraw()

    def _services_ready(self, message: ServicesReady) -> Redraw:
        """Start indexing and embed the prompts that have no vector yet."""
        self.ready = message
        if message.client is None:
            self.index_state = "failed"
            return Redraw(status=True)
        start = self.playhead
        self.host.run_worker(
            lambda: self._indexer_job(message, start),
            name="indexer",
            group="indexer",
            thread=True,
            exit_on_error=False,
        )
        self.embed_pending()
        return Redraw(status=True)

    def _services_failed(self, message: ServicesFailed) -> Redraw:
        """No cache, no scores: say why; playback goes on."""
        self.index_state = "failed"
        self.cache_error = message.error
        self.notify_once(f"No embeddings: {message.error}", severity="error")
        return Redraw(status=True)

    def _cache_failed(self, message: CacheFailed) -> Redraw:
        """The cache stopped taking writes: show it as an error state; playback goes on."""
        self.index_state = "failed"
        self.cache_error = message.error
        self.notify_once(f"Cache error: {message.error}", severity="error")
        return Redraw(status=True)

    def _indexer_started(self, message: IndexerStarted) -> Redraw:
        """Keep the indexer to steer it with the playhead."""
        self.indexer = message.indexer
        message.indexer.set_playhead(self.playhead)
        return Redraw()

    def _embeddings_stored(self, message: EmbeddingsStored) -> Redraw:
        """Score the newly embedded frames (the chart fills in)."""
        self.board.add_frames(message.indices, message.vectors)
        return Redraw(board=True, live=True)

    def _index_progressed(self, message: IndexProgressed) -> Redraw:
        """Update the indexing part of the status bar."""
        p = message.progress
        self.index_done, self.index_rate, self.index_state = p.done, p.frames_per_s, p.state
        if p.state == "failed" and p.error:
            self.notify_once(f"Indexing stopped: {p.error}", severity="error", key=p.error)
        return Redraw(status=True)

    def _server_state_changed(self, message: ServerStateChanged) -> Redraw:
        """Show the server state (and once, why it is in trouble); retry prompts when it is back."""
        previous, self.server_state = self.server_state, message.state
        if message.state == "failed" and message.detail:
            self.notify_once(message.detail, severity="error")
        elif message.state in ("unreachable", "retrying") and message.detail:
            # The same line the command line prints; the app keeps retrying behind it.
            self.notify_once(message.detail, severity="warning")
        if message.state == "connected" and previous != "connected":
            self._shown.clear()
            self.embed_pending()
        return Redraw(status=True)

    def _prompt_embedded(self, message: PromptEmbedded) -> Redraw:
        """Score the whole video against the new prompt at once."""
        self._in_flight_prompts.discard(message.text)
        changed = self.board.set_vector(message.text, message.vector)
        return Redraw(board=changed)

    def _prompt_rejected(self, message: PromptRejected) -> Redraw:
        """Mark the prompt ✗ with the reason and tell the user."""
        self._in_flight_prompts.discard(message.text)
        self.board.mark(message.text, REJECTED, message.reason)
        self._notify(f"Prompt rejected: {message.reason}", "error")
        return Redraw(board=True)

    def _prompt_deferred(self, message: PromptDeferred) -> Redraw:
        """Keep the prompt pending and try again a little later."""
        self._in_flight_prompts.discard(message.text)
        self.board.mark(message.text, PENDING, f"waiting for the server ({message.reason})")
        if self._retry_timer is None:
            self._retry_timer = self.host.set_timer(PROMPT_RETRY_S, self._retry_prompts)
        return Redraw(board=True)

    def _pool_changed(self, message: ServerPoolChanged) -> Redraw:
        """Count the servers up for the status bar; tell the user the pool's news."""
        self.servers_up, self.servers_total = message.up, message.total
        if message.note:
            self.notify_once(message.note, severity="warning")
        return Redraw(status=True)

    def _retry_prompts(self) -> None:
        self._retry_timer = None
        self.embed_pending()

    _HANDLERS: ClassVar[dict[type, Callable[[BackgroundWork, Any], Redraw]]] = {
        CacheLoaded: _cache_loaded,
        EmbeddedServerPrepared: _server_prepared,
        ServicesReady: _services_ready,
        ServicesFailed: _services_failed,
        CacheFailed: _cache_failed,
        IndexerStarted: _indexer_started,
        EmbeddingsStored: _embeddings_stored,
        IndexProgressed: _index_progressed,
        ServerStateChanged: _server_state_changed,
        PromptEmbedded: _prompt_embedded,
        PromptRejected: _prompt_rejected,
        PromptDeferred: _prompt_deferred,
        ServerPoolChanged: _pool_changed,
    }
