"""Background jobs of the player (services, indexing), plain functions run on worker threads.

Each job gets a ``post`` callable (the screen's thread-safe ``post_message``) and a ``cancelled``
callable (its worker's cancel flag); it never touches widgets. :mod:`~clipvi_tui.player.background`
runs them as Textual thread workers. Blocking calls go through
:func:`~clipvi_tui.player.context.run_abandonable` so quitting never waits for a hung server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from clipvi_tui.core.cache import CacheError, EmbeddingCache
from clipvi_tui.core.embeddings import (
    EmbeddingClient,
    EmbeddingError,
    ServerUnreachable,
)
from clipvi_tui.core.indexer import MAX_RETRY_DELAY, Indexer, Progress
from clipvi_tui.core.process import lower_thread_priority, name_os_thread
from clipvi_tui.core.reachability import server_answers
from clipvi_tui.core.servers import ServerPool
from clipvi_tui.core.thumbnails import fill_thumbnails
from clipvi_tui.core.validation import ModelGate
from clipvi_tui.core.video import VideoError, fingerprint
from clipvi_tui.player.context import (
    Abandoned,
    Cancelled,
    PlayerConfig,
    Post,
    ServiceHandles,
    run_abandonable,
    server_log_path,
)
from clipvi_tui.player.messages import (
    CacheFailed,
    CacheLoaded,
    EmbeddedServerPrepared,
    EmbeddingsStored,
    IndexerStarted,
    IndexProgressed,
    PromptEmbedded,
    ServerPoolChanged,
    ServerStateChanged,
    ServicesFailed,
    ServicesReady,
)

# Start-up budget of the embedded server (it imports torch and builds models).
SERVER_START_TIMEOUT_S = 120.0
# Indexing threads run this much "nicer" than the UI, so playback keeps its frame rate on 2 cores.
INDEX_NICE = 10


def start_services(
    config: PlayerConfig, handles: ServiceHandles, post: Post, cancelled: Cancelled
) -> None:
    """Open the cache, load what it holds, start a local server if needed, then report ready.

    Posts, in order: :class:`CacheLoaded`, one :class:`PromptEmbedded` per prompt already cached,
    :class:`ServerStateChanged` while a local server starts, and :class:`ServicesReady` (or
    :class:`ServicesFailed` if the cache cannot be opened).
    """
    settings = config.settings
    try:
        cache = EmbeddingCache(settings.cache_dir)
    except CacheError as exc:
        post(ServicesFailed(str(exc)))
        return
    with handles.lock:
        handles.cache = cache
    try:
        with handles.using_cache():
            _start(config, handles, cache, post, cancelled)
    except Abandoned:
        return


def _start(
    config: PlayerConfig,
    handles: ServiceHandles,
    cache: EmbeddingCache,
    post: Post,
    cancelled: Cancelled,
) -> None:
    """The body of :func:`start_services`, run while registered as a cache user."""
    settings = config.settings
    api_url = settings.api_url
    start = config.start_server
    if start is None:
        from clipvi_tui.server.embedded import should_start

        # With several servers, one that does not answer is set aside, not replaced.
        start = len(settings.servers) <= 1 and should_start(api_url, settings.server)
    server = None
    if start:
        from clipvi_tui.server.embedded import EmbeddedServer

        log = server_log_path()
        log.parent.mkdir(parents=True, exist_ok=True)
        server = EmbeddedServer(settings.model_dir, settings.clip_version, log_path=log)
        api_url = server.api_url
    client = config.client_factory(api_url)
    watch_pool(client, post)
    video_fp = fingerprint(config.video, config.info)
    with handles.lock:
        handles.gate = ModelGate(client, cache, server=api_url)

    # Whatever is cached shows at once, before any server is up.
    indices, vectors = cache.frame_matrix(video_fp, client.model_id, client.preprocess_tag)
    post(CacheLoaded(indices, vectors))
    if settings.prompts:
        found, text_vecs = cache.get_texts(client.model_id, settings.prompts)
        for prompt, ok, vec in zip(settings.prompts, found, text_vecs, strict=True):
            if ok:
                post(PromptEmbedded(prompt, vec))

    if server is not None:
        with handles.lock:
            handles.server = server
        post(ServerStateChanged("starting", f"starting a local Inference server on {api_url}"))
        try:
            _launch_on_main_thread(server, post, cancelled)
            _wait_for_server(server, cancelled)
        except Abandoned:
            return
        except Exception as exc:
            post(ServerStateChanged("failed", f"{exc} (log: {server_log_path()})"))
            server.stop()
            post(ServicesReady(cache, None, video_fp))
            return
        if cancelled():
            return
        post(ServerStateChanged("connected", f"local Inference server on {api_url}"))
    post(ServicesReady(cache, client, video_fp))


def _launch_on_main_thread(server: Any, post: Post, cancelled: Cancelled) -> None:
    """Have the UI thread launch ``server`` (see :class:`EmbeddedServerPrepared`) and wait.

    Raises:
        Abandoned: if cancelled first.
        Exception: whatever launching raised.
    """
    message = EmbeddedServerPrepared(server, threading.Event())
    post(message)
    while not message.launched.wait(0.1):
        if cancelled():
            raise Abandoned()
    if message.error is not None:
        raise message.error


def _wait_for_server(server: Any, cancelled: Cancelled) -> None:
    """Poll the embedded server until it answers, it dies, time runs out or we are cancelled.

    ``EmbeddedServer.wait_ready`` would block for up to two minutes without looking at the
    cancel flag, so quitting during start-up would hang; this loop checks it every poll.

    Raises:
        RuntimeError: if the server exits or does not answer in time.
    """
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not cancelled():
        if not server.running:
            code = server.process.returncode if server.process is not None else "?"
            raise RuntimeError(f"embedded Inference server exited with code {code}")
        if server_answers(server.api_url, timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"embedded Inference server did not start in {SERVER_START_TIMEOUT_S:.0f} s"
            )
        time.sleep(0.25)


def run_indexer(
    config: PlayerConfig,
    handles: ServiceHandles,
    ready: ServicesReady,
    start_frame: int,
    post: Post,
    cancelled: Cancelled,
) -> Progress | None:
    """Embed every sampled frame not cached yet, playhead first, retrying while the server is down.

    Posts :class:`IndexerStarted`, then :class:`EmbeddingsStored` for every write (with the
    stored vectors, read back from the cache on the writer thread) and :class:`IndexProgressed`,
    and :class:`ServerStateChanged` whenever the server's health as seen by the indexer changes.

    Returns:
        The final progress, or None if the job was abandoned.
    """
    cache: EmbeddingCache = ready.cache
    client: EmbeddingClient = ready.client
    last_state: list[str] = [""]

    def report_server(state: str, detail: str) -> None:
        if state != last_state[0]:
            last_state[0] = state
            post(ServerStateChanged(state, detail))

    last_pool: list[tuple[int, int]] = [(-1, -1)]

    def report_pool() -> None:
        health = getattr(client, "health", None)
        if health is not None:
            h = health()
            if (h.up, h.total) != last_pool[0]:
                last_pool[0] = (h.up, h.total)
                post(ServerPoolChanged(h.up, h.total))

    def on_progress(p: Progress) -> None:
        if len(p.stored):
            found, vecs = cache.get_frames(
                indexer.fingerprint, client.model_id, client.preprocess_tag, p.stored
            )
            post(EmbeddingsStored(p.stored[found], vecs[found]))
            report_server("connected", "")
        if p.state == "retrying":
            exc = indexer.last_exception
            state = "unreachable" if isinstance(exc, ServerUnreachable) else "retrying"
            report_server(state, p.error or "")
        elif p.state == "failed" and isinstance(indexer.last_exception, EmbeddingError):
            report_server("failed", p.error or "")
        elif p.state == "failed" and isinstance(indexer.last_exception, CacheError):
            post(CacheFailed(p.error or "cache write failed"))
        report_pool()
        post(IndexProgressed(_without_stored(p)))

    indexer = Indexer(
        config.video,
        client,
        cache,
        sample_fps=config.settings.sample_fps,
        video_fingerprint=ready.fingerprint,
        info=config.info,
        keep_retrying=True,
        on_progress=on_progress,
        thumbnails=True,
        nice=INDEX_NICE,
    )
    indexer.set_playhead(start_frame)
    with handles.lock:
        handles.indexer = indexer
    post(IndexerStarted(indexer))
    post(IndexProgressed(indexer.progress()))

    def run() -> Progress | None:
        name_os_thread("clipvi-idx-run")
        with handles.using_cache():
            if indexer.done < indexer.total and not _model_verified(
                handles.gate, report_server, cancelled
            ):
                return None
            final = indexer.run()
            if final.state == "done" and not indexer.cancelled:
                # Frames embedded elsewhere (the CLI) have no thumbnails yet: make them now, at
                # low priority, so seeks anywhere show a picture at once.
                lower_thread_priority(INDEX_NICE)
                with contextlib.suppress(VideoError):
                    fill_thumbnails(
                        config.info, cache, indexer.sampled, start_frame, lambda: indexer.cancelled
                    )
            return final

    try:
        final = run_abandonable(run, cancelled, on_cancel=indexer.cancel)
    except Abandoned:
        return None
    except EmbeddingError as exc:  # the model check failed for good: say so, stop indexing
        report_server("failed", str(exc))
        failed = Progress(indexer.done, indexer.total, state="failed", error=str(exc))
        post(IndexProgressed(failed))
        return failed
    return final


def _model_verified(
    gate: ModelGate | None, report_server: Callable[[str, str], None], cancelled: Cancelled
) -> bool:
    """Check the server's model before embedding, retrying while the server is down.

    Returns:
        True once verified (or when there is no gate), False if cancelled first.

    Raises:
        EmbeddingError: when the check fails for good (another model, no such model).
    """
    delay = 0.5
    while gate is not None and not cancelled():
        try:
            gate.ensure()
            return True
        except EmbeddingError as exc:
            if not exc.transient:
                raise
            state = "unreachable" if isinstance(exc, ServerUnreachable) else "retrying"
            report_server(state, str(exc))
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not cancelled():
            time.sleep(0.05)
        delay = min(delay * 2, MAX_RETRY_DELAY)
    return gate is None


def watch_pool(client: EmbeddingClient, post: Post) -> None:
    """Have a server pool report its news and counts to the screen (other clients: nothing)."""
    if not isinstance(client, ServerPool):
        return
    pool = client

    def on_event(text: str) -> None:
        h = pool.health()
        post(ServerPoolChanged(h.up, h.total, text))

    pool.on_event = on_event
    h = pool.health()
    post(ServerPoolChanged(h.up, h.total))


def _without_stored(p: Progress) -> Progress:
    """A copy of ``p`` without the stored indices (they travel in EmbeddingsStored)."""
    return Progress(
        done=p.done, total=p.total, frames_per_s=p.frames_per_s, state=p.state, error=p.error
    )
