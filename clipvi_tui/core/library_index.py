"""Index a library: several videos, ``jobs`` at a time, with one overall progress.

Each video runs through its own :class:`~clipvi_tui.core.indexer.Indexer`; they share one
embedding client (a :class:`~clipvi_tui.core.servers.ServerPool` spreads their requests over the
servers) and one cache. A rerun embeds only what is missing, because every indexer starts from
what the cache holds. One unreadable video is reported and skipped; a server that fails for good
stops the run (every other video would fail the same way).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient, EmbeddingError
from clipvi_tui.core.indexer import Indexer, Progress
from clipvi_tui.core.library import LibraryEntry
from clipvi_tui.core.throughput import Throughput


@dataclass(frozen=True)
class VideoIndexed:
    """How one video's run ended.

    Attributes:
        path: the video.
        state: ``done``, ``failed``, ``cancelled`` or ``skipped`` (stopped before it started).
        done: sampled frames cached at the end.
        total: sampled frames.
        embedded_now: frames embedded by this run.
        seconds: how long its run took.
        error: why it failed, if it did.
    """

    path: Path
    state: str
    done: int
    total: int
    embedded_now: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class LibraryProgress:
    """The whole library at one moment.

    Attributes:
        videos_done: videos whose run ended (whatever the outcome).
        videos_total: videos in the library.
        frames_done: sampled frames cached, over every video.
        frames_total: sampled frames, over every video.
        frames_per_s: embedding throughput over the last few seconds, all videos together.
        running: the videos being indexed now.
    """

    videos_done: int
    videos_total: int
    frames_done: int
    frames_total: int
    frames_per_s: float
    running: tuple[str, ...] = ()


@dataclass
class _Tally:
    done: dict[Path, int] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    finished: int = 0
    rate: Throughput = field(default_factory=Throughput)


class LibraryIndexer:
    """Embeds every sampled frame of every video in a library that the cache lacks."""

    def __init__(
        self,
        entries: Sequence[LibraryEntry],
        client: EmbeddingClient,
        cache: EmbeddingCache,
        *,
        sample_fps: float | None,
        jobs: int = 1,
        on_progress: Callable[[LibraryProgress], None] | None = None,
        on_video: Callable[[VideoIndexed], None] | None = None,
    ) -> None:
        """Prepare the run (nothing starts until :meth:`run`).

        Args:
            entries: the library (:func:`~clipvi_tui.core.library.scan_library`); entries
                that could not be opened are reported as failed without trying again.
            client: where embeddings come from (shared by every video).
            cache: where they go.
            sample_fps: frames per second to embed; None for every frame.
            jobs: videos indexed at the same time.
            on_progress: called (from worker threads) whenever a video stores vectors.
            on_video: called once per video when its run ends.
        """
        self.entries = list(entries)
        self.client = client
        self.cache = cache
        self.sample_fps = sample_fps
        self.jobs = max(1, jobs)
        self.on_progress = on_progress
        self.on_video = on_video
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._indexers: set[Indexer] = set()
        self._tally = _Tally(done={e.path: e.cached for e in self.entries})
        self.fatal: Exception | None = None  # a server failure that stopped the run

    @property
    def frames_total(self) -> int:
        """Sampled frames over the whole library."""
        return sum(e.total for e in self.entries)

    def cancel(self) -> None:
        """Stop every video soon; what was embedded stays cached."""
        self._cancel.set()
        with self._lock:
            for indexer in self._indexers:
                indexer.cancel()

    def run(self) -> list[VideoIndexed]:
        """Index the library; blocks. Results come in library order."""
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="clipvi-library") as pool:
            results = list(pool.map(self._one, self.entries))
        self._report()
        return results

    def progress(self) -> LibraryProgress:
        """The current overall state."""
        with self._lock:
            t = self._tally
            return LibraryProgress(
                videos_done=t.finished,
                videos_total=len(self.entries),
                frames_done=sum(t.done.values()),
                frames_total=self.frames_total,
                frames_per_s=t.rate.frames_per_s(),
                running=tuple(t.running),
            )

    # -- one video -----------------------------------------------------------------------------

    def _one(self, entry: LibraryEntry) -> VideoIndexed:
        if entry.error is not None:
            return self._ended(VideoIndexed(entry.path, "failed", 0, 0, 0, 0.0, entry.error))
        if self._cancel.is_set():
            state = "failed" if self.fatal is not None else "skipped"
            why = str(self.fatal) if self.fatal is not None else None
            return self._ended(
                VideoIndexed(entry.path, state, entry.cached, entry.total, 0, 0.0, why)
            )
        t0 = time.monotonic()
        try:
            indexer = Indexer(
                entry.path,
                self.client,
                self.cache,
                sample_fps=self.sample_fps,
                video_fingerprint=entry.fingerprint,
                info=entry.info,  # probed by the scan: no second hash or demux
                on_progress=functools.partial(self._stored, entry.path),
            )
        except Exception as exc:  # the file changed since the scan
            return self._ended(
                VideoIndexed(entry.path, "failed", entry.cached, entry.total, 0, 0.0, str(exc))
            )
        before = indexer.done
        with self._lock:
            self._indexers.add(indexer)
            self._tally.running.append(entry.path.name)
            self._tally.done[entry.path] = before
        if self._cancel.is_set():
            indexer.cancel()
        try:
            final = indexer.run()
        finally:
            with self._lock:
                self._indexers.discard(indexer)
                self._tally.running.remove(entry.path.name)
        error = final.error if final.state == "failed" else None
        if final.state == "failed" and isinstance(indexer.last_exception, EmbeddingError):
            # The server is gone for good: the other videos would fail the same way.
            self.fatal = indexer.last_exception
            self.cancel()
        return self._ended(
            VideoIndexed(
                entry.path,
                final.state,
                final.done,
                final.total,
                final.done - before,
                time.monotonic() - t0,
                error,
            )
        )

    def _stored(self, path: Path, p: Progress) -> None:
        with self._lock:
            previous = self._tally.done.get(path, 0)
            self._tally.done[path] = p.done
            if p.done > previous:
                self._tally.rate.add(p.done - previous)
        self._report()

    def _ended(self, result: VideoIndexed) -> VideoIndexed:
        with self._lock:
            self._tally.finished += 1
        if self.on_video is not None:
            self.on_video(result)
        self._report()
        return result

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress())
