"""The indexer's write stage: embedded batches into the cache, one transaction per drain.

One :class:`Writer` thread takes whatever the embedders have finished, stores the vectors (and
the thumbnails made on the way) in one LMDB transaction, marks the frames done in the
:class:`~clipvi_tui.core.index_schedule.IndexSchedule` and reports progress. A failed write
(disk full, a damaged file, a dimension conflict) ends the whole run: nothing later could be
stored either.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.index_decode import Batch
from clipvi_tui.core.index_schedule import IndexSchedule
from clipvi_tui.core.process import lower_thread_priority, name_os_thread
from clipvi_tui.core.throughput import Throughput

Embedded = tuple[Batch, np.ndarray]


def _drain(inp: queue.Queue[Embedded | None]) -> tuple[list[Embedded], bool]:
    """Wait for one item, then take whatever else has arrived; True once the end mark came."""
    items: list[Embedded] = []
    item = inp.get()
    if item is None:
        return items, True
    items.append(item)
    while True:
        try:
            more = inp.get_nowait()
        except queue.Empty:
            return items, False
        if more is None:
            return items, True
        items.append(more)


class Writer:
    """The write stage of one indexing run (its :meth:`run` is the thread's body)."""

    def __init__(
        self,
        cache: EmbeddingCache,
        fingerprint: str,
        client: EmbeddingClient,
        schedule: IndexSchedule,
        throughput: Throughput,
        *,
        nice: int,
        report: Callable[[np.ndarray], None],
        abort: Callable[[Exception, threading.Event], None],
    ) -> None:
        """Write one video's vectors from ``client`` into ``cache``.

        Args:
            cache: where vectors and thumbnails go.
            fingerprint: the video's cache key.
            client: the embedding client (its model id and preprocessing tag key the vectors).
            schedule: told which frames were stored, or which batches were dropped.
            throughput: counts the frames stored.
            nice: lower this thread's CPU priority by this much.
            report: called with the raw frame indices after every write.
            abort: ends the run on an exception (a failed write or progress callback).
        """
        self.cache = cache
        self.fingerprint = fingerprint
        self.client = client
        self.schedule = schedule
        self.throughput = throughput
        self.nice = nice
        self.report = report
        self.abort = abort

    def run(self, inp: queue.Queue[Embedded | None], fatal: threading.Event) -> None:
        """Store what arrives on ``inp`` until its end mark (None) or a failure.

        Args:
            inp: the embedders' results, ended by None.
            fatal: handed to ``abort`` when a write fails.
        """
        name_os_thread("clipvi-idx-wri")
        lower_thread_priority(self.nice)
        finished = False
        while not finished:
            items, finished = _drain(inp)
            if not items:
                continue
            indices = [k for b, _ in items for k in b.indices]
            vectors = np.concatenate([v for _, v in items], axis=0)
            try:
                self._store(items, indices, vectors)
            except Exception as exc:
                # Disk full, a damaged file, a dimension conflict: nothing later can be stored
                # either, so the whole pipeline stops now (and the run reports this error).
                self.schedule.dropped(len(items))
                self.abort(exc, fatal)
                return
            self.schedule.stored(len(indices), batches=len(items))
            self.throughput.add(len(indices))
            try:
                self.report(np.asarray(indices, dtype=np.int64))
            except Exception as exc:  # a failing progress callback must not hang the run
                self.abort(exc, fatal)
                return

    def _store(self, items: list[Embedded], indices: list[int], vectors: np.ndarray) -> None:
        """One transaction for the vectors of ``items``, one for their thumbnails (if any)."""
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
