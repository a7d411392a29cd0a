"""The player's background half: service workers and the handlers of what they report.

A mixin of :class:`~clipvi_tui.screens.player.PlayerScreen`, kept apart so the screen module
stays about playback and keys. Handlers use Textual's ``on_<message>`` naming (they are found
through the MRO); the worker bodies are plain functions in :mod:`clipvi_tui.screens.services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.timer import Timer
from textual.worker import get_current_worker

from clipvi_tui.core.indexer import Indexer
from clipvi_tui.messages import (
    CacheLoaded,
    EmbeddedServerPrepared,
    EmbeddingsStored,
    IndexerStarted,
    IndexProgressed,
    PromptDeferred,
    PromptEmbedded,
    PromptRejected,
    ServerStateChanged,
    ServicesFailed,
    ServicesReady,
)
from clipvi_tui.screens import services
from clipvi_tui.screens.scoreboard import PENDING, REJECTED, ScoreBoard

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen[None]
else:
    _Base = object

# A deferred prompt is retried after this long (sooner if the server comes back).
PROMPT_RETRY_S = 3.0


class BackgroundMixin(_Base):
    """Services, indexing and prompt embedding for the player screen."""

    # Provided by PlayerScreen.
    config: services.PlayerConfig
    handles: services.ServiceHandles
    board: ScoreBoard
    frame: int
    ready: ServicesReady | None
    indexer: Indexer | None
    server_state: str
    index_done: int
    index_rate: float
    index_state: str
    _shut_down: bool
    _in_flight_prompts: set[str]
    _retry_timer: Timer | None
    _last_error: str

    def _board_changed(self, *, live: bool = False) -> None:
        raise NotImplementedError

    def _refresh_status(self) -> None:
        raise NotImplementedError

    # -- workers ------------------------------------------------------------------------------

    @work(thread=True, name="services", group="services", exit_on_error=False)
    def _start_services(self) -> None:
        """Open the cache, start a local server if needed, report ready (worker thread)."""
        worker = get_current_worker()
        services.start_services(
            self.config, self.handles, self.post_message, lambda: worker.is_cancelled
        )

    @work(thread=True, name="indexer", group="indexer", exit_on_error=False)
    def _run_indexer(self, ready: ServicesReady, start_frame: int) -> None:
        """Embed every sampled frame not cached yet, playhead first (worker thread)."""
        worker = get_current_worker()
        services.run_indexer(
            self.config,
            self.handles,
            ready,
            start_frame,
            self.post_message,
            lambda: worker.is_cancelled,
        )

    @work(thread=True, name="prompt embedding", group="prompts", exit_on_error=False)
    def _embed_prompts(self, ready: ServicesReady, texts: list[str]) -> None:
        """Get vectors for ``texts``, cache first (worker thread)."""
        worker = get_current_worker()
        services.embed_prompts(
            self.handles, ready, texts, self.post_message, lambda: worker.is_cancelled
        )

    # -- handlers -----------------------------------------------------------------------------

    def on_cache_loaded(self, message: CacheLoaded) -> None:
        """Show whatever the cache already held for this video."""
        self.board.add_frames(message.indices, message.vectors)
        self.index_done = self.board.embedded
        self._board_changed()

    def on_embedded_server_prepared(self, message: EmbeddedServerPrepared) -> None:
        """Start the local server from this (main) thread so it dies with the app."""
        try:
            if not self._shut_down:
                message.server.start()
        except Exception as exc:
            message.error = exc
        finally:
            message.launched.set()

    def on_services_ready(self, message: ServicesReady) -> None:
        """Start indexing and embed the prompts that have no vector yet."""
        self.ready = message
        if message.client is None:
            self.index_state = "failed"
            return
        self._run_indexer(message, self.frame)
        self._embed_pending()

    def on_services_failed(self, message: ServicesFailed) -> None:
        """No cache, no scores: say why; playback goes on."""
        self.index_state = "failed"
        self._notify_once(f"No embeddings: {message.error}", severity="error")
        self._refresh_status()

    def on_indexer_started(self, message: IndexerStarted) -> None:
        """Keep the indexer to steer it with the playhead."""
        self.indexer = message.indexer
        message.indexer.set_playhead(self.frame)

    def on_embeddings_stored(self, message: EmbeddingsStored) -> None:
        """Score the newly embedded frames (the chart fills in)."""
        self.board.add_frames(message.indices, message.vectors)
        self._board_changed(live=True)

    def on_index_progressed(self, message: IndexProgressed) -> None:
        """Update the indexing part of the status bar."""
        p = message.progress
        self.index_done, self.index_rate, self.index_state = p.done, p.frames_per_s, p.state
        if p.state == "failed" and p.error:
            self._notify_once(f"Indexing stopped: {p.error}", severity="error")
        self._refresh_status()

    def on_server_state_changed(self, message: ServerStateChanged) -> None:
        """Show the server state; retry waiting prompts when it is back."""
        previous, self.server_state = self.server_state, message.state
        if message.state == "failed" and message.detail:
            self._notify_once(message.detail, severity="error")
        if message.state == "connected" and previous != "connected":
            self._embed_pending()
        self._refresh_status()

    def on_prompt_embedded(self, message: PromptEmbedded) -> None:
        """Score the whole video against the new prompt at once."""
        self._in_flight_prompts.discard(message.text)
        if self.board.set_vector(message.text, message.vector):
            self._board_changed()

    def on_prompt_rejected(self, message: PromptRejected) -> None:
        """Mark the prompt ✗ with the reason and tell the user."""
        self._in_flight_prompts.discard(message.text)
        self.board.mark(message.text, REJECTED, message.reason)
        self.notify(f"Prompt rejected: {message.reason}", severity="error", timeout=6)
        self._board_changed()

    def on_prompt_deferred(self, message: PromptDeferred) -> None:
        """Keep the prompt pending and try again a little later."""
        self._in_flight_prompts.discard(message.text)
        self.board.mark(message.text, PENDING, f"waiting for the server ({message.reason})")
        if self._retry_timer is None:
            self._retry_timer = self.set_timer(PROMPT_RETRY_S, self._retry_prompts)
        self._board_changed()

    def _retry_prompts(self) -> None:
        self._retry_timer = None
        self._embed_pending()

    def _embed_pending(self) -> None:
        """Send prompts without a vector (and not already on their way) to a worker."""
        ready = self.ready
        if ready is None or ready.client is None:
            return
        todo = [t for t in self.board.pending() if t not in self._in_flight_prompts]
        if todo:
            self._in_flight_prompts.update(todo)
            self._embed_prompts(ready, todo)

    def _notify_once(self, text: str, severity: str = "information") -> None:
        """Notify, but not the same message twice in a row (retry loops repeat themselves)."""
        if text != self._last_error:
            self._last_error = text
            self.notify(text, severity=severity, timeout=8)  # type: ignore[arg-type]
