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
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.conversion import FrameConverter
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError
from clipvi_tui.core.failures import EmbeddingCancelled
from clipvi_tui.core.process import lower_thread_priority, name_os_thread
from clipvi_tui.core.progress import Progress, ProgressCallback
from clipvi_tui.core.scores import cached_scores, prompt_vectors
from clipvi_tui.core.validation import check_vectors, server_of
from clipvi_tui.core.video import VideoInfo, VideoReader, probe, sample_indices

__all__ = ["Indexer", "Progress", "ProgressCallback", "cached_scores", "prompt_vectors"]

# Longest pause between retries while the server is down (the app keeps trying forever).
MAX_RETRY_DELAY = 5.0
# Window over which frames/s is measured.
RATE_WINDOW_S = 3.0
# Requests in flight for a client that does not say how many it can take.
DEFAULT_CONCURRENCY = 3
# After a cancel or a fatal error, how long run() waits for requests already in flight.
STOP_GRACE_S = 0.3


def _raw(frame: Any, rotation: int) -> Any:
    """Keep a decoded frame as it is (the :class:`FrameConverter` converts it)."""
    return frame


class _Batch:
    """Frames on their way through the pipeline."""

    __slots__ = ("frames", "indices", "playhead_moves", "positions", "prepared", "thumbs")

    def __init__(
        self,
        positions: list[int],
        indices: list[int],
        frames: list[Any],
        playhead_moves: int,
    ):
        self.positions = positions
        self.indices = indices
        self.frames = frames  # conversions of the decoded frames (futures), until collected
        self.prepared: list[np.ndarray] | None = None  # what is uploaded
        self.thumbs: list[bytes] = []  # JPEG thumbnails, when the indexer makes them
        self.playhead_moves = playhead_moves  # how many seeks had happened when it was picked


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
        self._lock = threading.Lock()
        self._playhead_pos = 0
        self._playhead_moves = 0
        self._in_flight = 0  # claimed batches not yet written or given back
        cached = cache.frame_indices(self.fingerprint, client.model_id, client.preprocess_tag)
        self._todo = ~np.isin(self.sampled, cached)
        self._done = int((~self._todo).sum())
        self._rate: deque[tuple[float, int]] = deque()
        self._error: str | None = None
        self.last_exception: Exception | None = None  # what ended a failed run
        self._state = "running"

    # -- control (any thread) ------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Sampled frames in the video."""
        return len(self.sampled)

    @property
    def done(self) -> int:
        """Sampled frames already cached."""
        return self._done

    def set_playhead(self, frame: int) -> None:
        """Embed frames from raw frame ``frame`` onwards next."""
        pos = int(np.searchsorted(self.sampled, frame))
        with self._lock:
            new = min(pos, max(0, self.total - 1))
            if new != self._playhead_pos:
                self._playhead_pos = new
                self._playhead_moves += 1

    def cancel(self) -> None:
        """Stop soon; what was embedded is still written."""
        self._user_cancelled = True
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._user_cancelled

    def _abort(self, exc: Exception, fatal: threading.Event) -> None:
        """End the run on ``exc``: remember it and stop every thread of the pipeline."""
        self._error = str(exc)
        self.last_exception = exc
        fatal.set()
        self._cancel.set()

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> Progress:
        """Index until every sampled frame is cached, or until cancelled or failed.

        Blocks; run it on a worker thread.

        Returns:
            The final progress (state ``done``, ``cancelled`` or ``failed``).
        """
        if not self._todo.any():
            return self._finish("done")
        decoded: queue.Queue[_Batch | None] = queue.Queue(maxsize=self.concurrency * 2)
        embedded: queue.Queue[tuple[_Batch, np.ndarray] | None] = queue.Queue()
        fatal = threading.Event()

        decoder = threading.Thread(
            target=self._decode_loop, args=(decoded, fatal), name="clipvi-decode", daemon=True
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

        writer_done = threading.Event()
        writer = threading.Thread(
            target=self._write_loop,
            args=(embedded, writer_done, fatal),
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
        complete = self._done >= self.total
        if self._user_cancelled and not complete:
            return self._finish("cancelled")
        return self._finish("done" if complete else "failed")

    def _offer(self, q: queue.Queue[_Batch | None], item: _Batch | None) -> None:
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

    # -- threads -------------------------------------------------------------------------------

    def _next_positions(self) -> list[int]:
        """Claim the next batch: todo positions from the playhead forward, else from the start."""
        size = self.client.max_batch
        with self._lock:
            start = self._playhead_pos
            ahead = np.flatnonzero(self._todo[start:])[:size] + start
            picks = ahead if len(ahead) else np.flatnonzero(self._todo[:start])[:size]
            self._todo[picks] = False
            if len(picks):
                self._in_flight += 1
            return [int(p) for p in picks]

    def _stale(self, batch: _Batch) -> bool:
        """True when a seek since the batch was picked left it far from the new playhead.

        Decoding is cheap next to embedding, so throwing such a batch back (it is picked again
        later) makes a seek take effect at once instead of after the queued batches.
        """
        with self._lock:
            if batch.playhead_moves == self._playhead_moves:
                return False
            start = self._playhead_pos
            window = self.client.max_batch * self.concurrency * 2
            return not any(start <= p < start + window for p in batch.positions)

    def _release(self, positions: Sequence[int]) -> None:
        """Give positions back to the todo set (their batch failed and will be retried)."""
        with self._lock:
            self._todo[list(positions)] = True
            self._in_flight -= 1

    def _decode_loop(self, out: queue.Queue[_Batch | None], fatal: threading.Event) -> None:
        name_os_thread("clipvi-idx-dec")
        lower_thread_priority(self.nice)
        # The frames between the sampled ones are decoded only as far as other frames need them
        # and never converted; the sampled ones are converted to what is uploaded right away.
        try:
            reader = VideoReader(self.video_path, self.info)
        except Exception as exc:
            self._error = str(exc)
            self.last_exception = exc
            fatal.set()
            return
        converter = FrameConverter(
            self.info.rotation, getattr(self.client, "prepare", None), thumbnails=self.thumbnails
        )
        with reader:
            try:
                self._decode_batches(reader, converter, out, fatal)
            finally:
                converter.close()

    def _decode_batches(
        self,
        reader: VideoReader,
        converter: FrameConverter,
        out: queue.Queue[_Batch | None],
        fatal: threading.Event,
    ) -> None:
        """Claim batches from the playhead on, decode them, hand them on for conversion."""
        while not self._cancel.is_set() and not fatal.is_set():
            positions = self._next_positions()
            if not positions:
                # Nothing unclaimed; failed batches may still come back for a retry.
                if self._in_flight_settled():
                    return
                time.sleep(0.05)
                continue
            indices = [int(self.sampled[p]) for p in positions]
            try:
                # Only the sampled frames are converted (on the converter threads, while this
                # thread decodes on); the ones between are decoded only as far as needed.
                futures = [converter.submit(f) for _, f in reader.iter_frames(indices, _raw)]
            except Exception as exc:
                self._error = str(exc)
                self.last_exception = exc
                fatal.set()
                return
            batch = _Batch(positions, indices, futures, self._playhead_moves)
            while not self._cancel.is_set():
                try:
                    out.put(batch, timeout=0.1)
                    break
                except queue.Full:
                    continue
            else:
                self._release(positions)

    def _prepared(self, batch: _Batch) -> list[np.ndarray]:
        """The batch's frames as uploaded (waiting for their conversions); keeps thumbnails."""
        if batch.prepared is None:
            done = [f.result() for f in batch.frames]
            batch.prepared = [upload for upload, _ in done]
            batch.thumbs = [t for _, t in done if t is not None]
            batch.frames = []
        return batch.prepared

    def _in_flight_settled(self) -> bool:
        """True when no batch is in flight, so none can come back for a retry."""
        with self._lock:
            return self._in_flight == 0 and not self._todo.any()

    def _embed_loop(
        self,
        inp: queue.Queue[_Batch | None],
        out: queue.Queue[tuple[_Batch, np.ndarray] | None],
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
                self._release(batch.positions)
                continue
            try:
                uploads = self._prepared(batch)
            except Exception as exc:  # a conversion failed (out of memory, say): stop cleanly
                self._release(batch.positions)
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
                self._release(batch.positions)
                if self._cancel.is_set() and isinstance(exc, EmbeddingCancelled):
                    continue  # we are stopping; the cancelled request is no failure
                self._error = str(exc)
                self.last_exception = exc
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

    def _write_loop(
        self,
        inp: queue.Queue[tuple[_Batch, np.ndarray] | None],
        done: threading.Event,
        fatal: threading.Event,
    ) -> None:
        name_os_thread("clipvi-idx-wri")
        lower_thread_priority(self.nice)
        finished = False
        while not finished:
            item = inp.get()
            items = []
            if item is None:
                finished = True
            else:
                items.append(item)
            # Drain whatever else has arrived: one transaction for all of it.
            while not finished:
                try:
                    more = inp.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    finished = True
                else:
                    items.append(more)
            if not items:
                continue
            indices = [k for b, _ in items for k in b.indices]
            vectors = np.concatenate([v for _, v in items], axis=0)
            try:
                self.cache.put_frames(
                    self.fingerprint,
                    self.client.model_id,
                    self.client.preprocess_tag,
                    indices,
                    vectors,
                )
                with_thumbs = [b for b, _ in items if b.thumbs]
                if with_thumbs:
                    self.cache.put_thumbnails(
                        self.fingerprint,
                        [k for b in with_thumbs for k in b.indices],
                        [t for b in with_thumbs for t in b.thumbs],
                    )
            except Exception as exc:
                # Disk full, a damaged file, a dimension conflict: nothing later can be stored
                # either, so the whole pipeline stops now (and the run reports this error).
                with self._lock:
                    self._in_flight -= len(items)
                self._abort(exc, fatal)
                break
            now = time.monotonic()
            with self._lock:
                self._done += len(indices)
                self._in_flight -= len(items)
                self._rate.append((now, len(indices)))
            try:
                self._report(np.asarray(indices, dtype=np.int64))
            except Exception as exc:  # a failing progress callback must not hang the run
                self._abort(exc, fatal)
                break
        done.set()

    # -- reporting -----------------------------------------------------------------------------

    def _frames_per_s(self) -> float:
        now = time.monotonic()
        with self._lock:
            while self._rate and now - self._rate[0][0] > RATE_WINDOW_S:
                self._rate.popleft()
            if not self._rate:
                return 0.0
            count = sum(n for _, n in self._rate)
            span = max(now - self._rate[0][0], 0.25)
        return count / span

    def progress(self, stored: np.ndarray | None = None) -> Progress:
        """The current state as a :class:`Progress`."""
        return Progress(
            done=self._done,
            total=self.total,
            frames_per_s=self._frames_per_s(),
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
