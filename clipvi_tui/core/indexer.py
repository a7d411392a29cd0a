"""The indexer: decode → batch → embed → cache, keeping the Inference server busy.

Three kinds of thread, joined by bounded queues (the shape of supervision's reader → processor →
writer):

* one **decoder** picks the next batch of frames that are not cached yet — starting at the
  playhead and going forward, then wrapping round — decodes and shrinks them;
* ``concurrency`` **embedders** send batches to the server, so several requests are in flight
  while the decoder already works on the next ones;
* one **writer** stores results in LMDB, draining whatever has arrived into one transaction.

Moving the playhead (a seek in the app) changes where the decoder picks next; nothing in flight
is thrown away. Cancelling stops the decoder; everything embedded so far is still written.

Stopping is prompt whatever is in flight: after a cancel (Ctrl-C) or a fatal error (the writer
failed, the server sent an invalid answer) :meth:`Indexer.run` waits at most
:data:`STOP_GRACE_S` for requests still on their way, then returns; those daemon threads end
with their request's timeout or with the process. A failed write stops the whole pipeline at
once and is the run's ``last_exception``. Every batch is validated (count, dimension, finite)
before it is written, so a broken answer never reaches the cache.

The :class:`Indexer` starts and stops the threads, runs the embed stage (requests, retries,
validation) and owns its collaborators: the
:class:`~clipvi_tui.core.index_schedule.IndexSchedule` (what is left, playhead first), the
decode stage (:class:`~clipvi_tui.core.index_decode.Decoder`), the write stage
(:class:`~clipvi_tui.core.index_write.Writer`) and a
:class:`~clipvi_tui.core.throughput.Throughput` (frames/s for the progress reports).
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import numpy as np

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError
from clipvi_tui.core.failures import EmbeddingCancelled
from clipvi_tui.core.index_decode import Batch, Decoder
from clipvi_tui.core.index_schedule import IndexSchedule
from clipvi_tui.core.index_write import Embedded, Writer
from clipvi_tui.core.process import lower_thread_priority, name_os_thread
from clipvi_tui.core.progress import Progress, ProgressCallback
from clipvi_tui.core.scores import cached_scores, prompt_vectors
from clipvi_tui.core.throughput import Throughput
from clipvi_tui.core.validation import check_vectors, server_of
from clipvi_tui.core.video import VideoInfo, probe, sample_indices

__all__ = ["Indexer", "Progress", "ProgressCallback", "cached_scores", "prompt_vectors"]

# Longest pause between retries while the server is down (the app keeps trying forever).
MAX_RETRY_DELAY = 5.0
# Requests in flight for a client that does not say how many it can take.
DEFAULT_CONCURRENCY = 3
# After a cancel or a fatal error, how long run() waits for requests already in flight.
STOP_GRACE_S = 0.3


class Indexer:
    """Embeds every sampled frame of one video that the cache does not have yet."""

    def __init__(
        self,
        video_path: str | Path,
        client: EmbeddingClient,
        cache: EmbeddingCache,
        *,
        sample_fps: float | None,
        video_fingerprint: str | None = None,
        info: VideoInfo | None = None,
        concurrency: int | None = None,
        keep_retrying: bool = False,
        on_progress: ProgressCallback | None = None,
        thumbnails: bool = False,
        nice: int = 0,
    ) -> None:
        """Prepare an indexing run (nothing starts until :meth:`run`).

        Args:
            video_path: the video file.
            client: where embeddings come from.
            cache: where they go.
            sample_fps: frames per second to embed; None for every frame.
            video_fingerprint: the video's cache key, if the caller already computed it.
            info: the probed video (with its frame index), if the caller already has it.
            concurrency: requests kept in flight at once; None asks the client (a
                :class:`~clipvi_tui.core.servers.ServerPool` knows its servers' capacity),
                else :data:`DEFAULT_CONCURRENCY`.
            keep_retrying: on server trouble, wait and retry forever (the app) instead of
                failing after the client's own retries (the CLI).
            on_progress: called from the writer thread after every write and at the end.
            thumbnails: also store a small JPEG of every embedded frame (the app's instant
                seeks, see :mod:`clipvi_tui.core.thumbnails`), made from the decoded picture.
            nice: lower the pipeline's threads' CPU priority by this much (the app keeps its
                UI ahead of indexing; see :mod:`clipvi_tui.core.process`).

        Raises:
            VideoError: if the video cannot be opened.
        """
        self.video_path = Path(video_path)
        self.info = (
            info if info is not None and info.index is not None else probe(video_path, cache)
        )
        self.client = client
        self.cache = cache
        self.fingerprint = video_fingerprint or self.info.fingerprint or ""
        assert self.fingerprint, "a probed VideoInfo always has a fingerprint"
        self.sampled = sample_indices(self.info, sample_fps)
        cached = cache.frame_indices(self.fingerprint, client.model_id, client.preprocess_tag)
        self._schedule = IndexSchedule(self.sampled, cached)
        if concurrency is None:
            concurrency = int(getattr(client, "concurrency", DEFAULT_CONCURRENCY))
        self.concurrency = max(1, concurrency)
        self.keep_retrying = keep_retrying
        self.on_progress = on_progress
        self.thumbnails = thumbnails and hasattr(cache, "put_thumbnails")
        self.nice = nice
        # Set by cancel() and by fatal errors: every thread of the pipeline watches it.
        self._cancel = threading.Event()
        self._user_cancelled = False
        self._throughput = Throughput()
        self._error: str | None = None
        self.last_exception: Exception | None = None  # what ended a failed run
        self._state = "running"

    # -- control (any thread) ------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Sampled frames in the video."""
        return self._schedule.total

    @property
    def done(self) -> int:
        """Sampled frames already cached."""
        return self._schedule.done

    def set_playhead(self, frame: int) -> None:
        """Embed frames from raw frame ``frame`` onwards next."""
        self._schedule.set_playhead(frame)

    def cancel(self) -> None:
        """Stop soon; what was embedded is still written."""
        self._user_cancelled = True
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._user_cancelled

    def _remember(self, exc: Exception) -> None:
        """Keep ``exc`` as the run's error (what progress reports, what ended a failed run)."""
        self._error = str(exc)
        self.last_exception = exc

    def _abort(self, exc: Exception, fatal: threading.Event) -> None:
        """End the run on ``exc``: remember it and stop every thread of the pipeline."""
        self._remember(exc)
        fatal.set()
        self._cancel.set()

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> Progress:
        """Index until every sampled frame is cached, or until cancelled or failed.

        Blocks; run it on a worker thread.

        Returns:
            The final progress (state ``done``, ``cancelled`` or ``failed``).
        """
        if not self._schedule.any_left():
            return self._finish("done")
        decoded: queue.Queue[Batch | None] = queue.Queue(maxsize=self.concurrency * 2)
        embedded: queue.Queue[Embedded | None] = queue.Queue()
        fatal = threading.Event()

        decode = Decoder(
            self.video_path,
            self.info,
            self.client,
            self._schedule,
            thumbnails=self.thumbnails,
            nice=self.nice,
            cancel=self._cancel,
            on_error=self._remember,
        )
        decoder = threading.Thread(
            target=decode.run, args=(decoded, fatal), name="clipvi-decode", daemon=True
        )
        embedders = [
            threading.Thread(
                target=self._embed_loop,
                args=(decoded, embedded, fatal),
                name=f"clipvi-embed-{i}",
                daemon=True,
            )
            for i in range(self.concurrency)
        ]
        decoder.start()
        for t in embedders:
            t.start()

        write = Writer(
            self.cache,
            self.fingerprint,
            self.client,
            self._schedule,
            self._throughput,
            nice=self.nice,
            report=self._report,
            abort=self._abort,
        )
        writer = threading.Thread(
            target=write.run,
            args=(embedded, fatal),
            name="clipvi-write",
            daemon=True,
        )
        writer.start()

        decoder.join()
        for _ in embedders:
            self._offer(decoded, None)
        self._join_promptly(embedders)
        embedded.put(None)
        writer.join()

        if fatal.is_set():
            return self._finish("failed")
        complete = self.done >= self.total
        if self._user_cancelled and not complete:
            return self._finish("cancelled")
        return self._finish("done" if complete else "failed")

    def _offer(self, q: queue.Queue[Batch | None], item: Batch | None) -> None:
        """Put ``item`` unless the run is stopping and nobody takes from a full queue."""
        while True:
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                if self._cancel.is_set():
                    return

    def _join_promptly(self, threads: list[threading.Thread]) -> None:
        """Join ``threads``; once the run is stopping, give in-flight work only a grace period."""
        deadline: float | None = None
        for t in threads:
            while t.is_alive():
                if self._cancel.is_set():
                    deadline = deadline or time.monotonic() + STOP_GRACE_S
                    if time.monotonic() >= deadline:
                        return  # abandoned: daemon threads stuck on a request
                t.join(0.05)

    # -- the embed stage (one thread per request in flight) -----------------------------------

    def _stale(self, batch: Batch) -> bool:
        """True when a seek since ``batch`` was picked left it far from the new playhead."""
        window = self.client.max_batch * self.concurrency * 2
        return self._schedule.stale(batch.positions, batch.playhead_moves, window)

    def _embed_loop(
        self,
        inp: queue.Queue[Batch | None],
        out: queue.Queue[Embedded | None],
        fatal: threading.Event,
    ) -> None:
        name_os_thread("clipvi-idx-emb")
        lower_thread_priority(self.nice)
        delay = 0.5
        while True:
            try:
                batch = inp.get(timeout=0.1)
            except queue.Empty:
                if self._cancel.is_set():
                    return
                continue
            if batch is None:
                return
            if self._cancel.is_set() or fatal.is_set() or self._stale(batch):
                self._schedule.release(batch.positions)
                continue
            try:
                uploads = batch.uploads()
            except Exception as exc:  # a conversion failed (out of memory, say): stop cleanly
                self._schedule.release(batch.positions)
                self._abort(exc, fatal)
                continue
            try:
                vectors = check_vectors(
                    self.client.embed_images(uploads),
                    len(uploads),
                    server=server_of(self.client),
                    model_id=self.client.model_id,
                )
            except EmbeddingError as exc:
                self._schedule.release(batch.positions)
                if self._cancel.is_set() and isinstance(exc, EmbeddingCancelled):
                    continue  # we are stopping; the cancelled request is no failure
                self._remember(exc)
                if exc.transient and self.keep_retrying:
                    self._state = "retrying"
                    self._report(np.zeros(0, dtype=np.int64))
                    self._cancel.wait(delay)
                    delay = min(delay * 2, MAX_RETRY_DELAY)
                    continue
                self._abort(exc, fatal)
                continue
            delay = 0.5
            if self._state == "retrying":
                self._state, self._error = "running", None
            out.put((batch, vectors))

    # -- reporting -----------------------------------------------------------------------------

    def progress(self, stored: np.ndarray | None = None) -> Progress:
        """The current state as a :class:`Progress`."""
        return Progress(
            done=self.done,
            total=self.total,
            frames_per_s=self._throughput.frames_per_s(),
            state=self._state,
            error=self._error,
            stored=stored if stored is not None else np.zeros(0, dtype=np.int64),
        )

    def _report(self, stored: np.ndarray) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress(stored))

    def _finish(self, state: str) -> Progress:
        self._state = state
        final = self.progress()
        if self.on_progress is not None:
            self.on_progress(final)
        return final
