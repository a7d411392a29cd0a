"""``clipvi-tui index PATH [PATH ...]``: index a library of videos, ``--jobs`` at a time.

One overall bar (videos, frames, frames/s, servers up) and one line per finished video on
stderr. A rerun embeds only what is missing. An unreadable video is reported and the others go
on; the exit code is 1 when any video failed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from clipvi_tui.cli.errors import EXIT_ERROR, EXIT_OK, Interrupted, UsageError
from clipvi_tui.cli.indexing import (
    make_client,
    notes_above,
    prepare_servers,
    run_index,
    servers_label,
    text_vectors,
)
from clipvi_tui.cli.inputs import refuse_url
from clipvi_tui.cli.progress import ProgressBar, bar_of, cancel_on_sigint
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import EmbeddingClient
from clipvi_tui.core.library import GLOB_CHARS, entry_vectors, find_videos, scan_library
from clipvi_tui.core.library_index import LibraryIndexer, LibraryProgress, VideoIndexed
from clipvi_tui.core.search import VideoVectors
from clipvi_tui.core.similarity import sampled_vectors
from clipvi_tui.core.validation import ModelGate


def wants_library(paths: Sequence[str] | None) -> bool:
    """True when the paths name a library (several paths, a folder or a glob), not one video."""
    if not paths:
        return False
    if len(paths) > 1:
        return True
    path = Path(paths[0]).expanduser()
    return path.is_dir() or (not path.exists() and bool(GLOB_CHARS & set(paths[0])))


class LibraryBar(ProgressBar):
    """The overall bar of a library run, with a line per finished video above it."""

    def show(self, p: LibraryProgress, finished: bool = False) -> None:
        """Redraw the overall bar (throttled)."""
        frac = p.frames_done / p.frames_total if p.frames_total else 1.0
        self.draw(
            f"{self.label} {bar_of(frac)} {p.videos_done}/{p.videos_total} videos  "
            f"{p.frames_done}/{p.frames_total} frames {frac:6.1%}  "
            f"{p.frames_per_s:6.1f} frames/s{self._servers_part()}",
            finished,
        )

    def video_done(self, r: VideoIndexed) -> None:
        """One line for a video whose run ended."""
        self.note(video_line(r))


def video_line(r: VideoIndexed) -> str:
    """``a.mp4: 300/300 frames cached (120 embedded now in 3.1 s)``, or why it failed."""
    if r.state == "done":
        return (
            f"{r.path.name}: {r.done}/{r.total} frames cached "
            f"({r.embedded_now} embedded now in {r.seconds:.1f} s)"
        )
    if r.state == "skipped":
        return f"{r.path.name}: not started"
    why = f": {r.error}" if r.error else ""
    return f"{r.path.name}: {r.state}, {r.done}/{r.total} frames cached{why}"


@dataclass
class LibraryResult:
    """What a library run did."""

    videos: list[VideoIndexed]
    seconds: float

    @property
    def embedded_now(self) -> int:
        """Frames embedded by this run, over every video."""
        return sum(v.embedded_now for v in self.videos)

    @property
    def failed(self) -> list[VideoIndexed]:
        """Videos that did not finish."""
        return [v for v in self.videos if v.state != "done"]


def index_library(
    settings: Settings,
    videos: Sequence[Path],
    prompts: list[str],
    *,
    jobs: int = 1,
    client: EmbeddingClient | None = None,
    stderr: TextIO | None = None,
    quiet: bool = False,
) -> LibraryResult:
    """Embed every sampled frame of every video (and the prompts), reusing the cache.

    Raises:
        Interrupted: on Ctrl-C (what was embedded stays cached).
        EmbeddingError: when the servers fail for good (the run stops: every video needs them).
        CacheError: as raised by the cache.
    """
    client = client or make_client(settings)
    stream = stderr or sys.stderr
    if prompts:
        text_vectors(settings, client, prompts)  # embedded (ensembles part by part) and cached
    with EmbeddingCache(settings.cache_dir) as cache:
        entries = scan_library(
            videos, cache, client.model_id, client.preprocess_tag, settings.sample_fps
        )
        bar = None if quiet else LibraryBar(stream, "library", servers=servers_label(client))
        runner = LibraryIndexer(
            entries,
            client,
            cache,
            sample_fps=settings.sample_fps,
            jobs=jobs,
            on_progress=bar.show if bar else None,
            on_video=bar.video_done if bar else None,
        )
        if any(e.error is None and e.cached < e.total for e in entries):
            prepare_servers(client)
            ModelGate(client, cache).ensure()  # the server's model must be the cached one
        t0 = time.monotonic()
        with cancel_on_sigint(runner), notes_above(bar, client):
            results = runner.run()
        if bar is not None:
            bar.show(runner.progress(), finished=True)
    if runner.fatal is not None:
        raise runner.fatal
    if any(r.state == "cancelled" for r in results):
        p = runner.progress()
        raise Interrupted(f"interrupted: {p.frames_done}/{p.frames_total} frames cached")
    return LibraryResult(results, time.monotonic() - t0)


def run_library_index_command(paths: Sequence[str], jobs: int, settings: Settings) -> int:
    """``clipvi-tui index PATH [PATH ...]`` for a library; returns the exit code.

    Raises:
        LibraryError: if the paths name no video.
        UsageError: for ``--jobs`` below 1.
    """
    from clipvi_tui.cli.cached import cache_covers
    from clipvi_tui.server.embedded import serving

    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    videos = find_videos(paths)
    needed = not cache_covers(settings, videos, settings.prompts)  # the cache first
    with serving(settings, say=lambda m: print(m, file=sys.stderr), needed=needed):
        result = index_library(settings, videos, settings.prompts, jobs=jobs)
    rate = result.embedded_now / result.seconds if result.seconds > 0 else 0.0
    failed = result.failed
    print(
        f"{len(videos)} videos: {len(videos) - len(failed)} indexed"
        + (f", {len(failed)} failed" if failed else "")
        + f" ({result.embedded_now} frames embedded now in {result.seconds:.1f} s, "
        f"{rate:.1f} frames/s)",
        file=sys.stderr,
    )
    return EXIT_ERROR if failed else EXIT_OK


# -- search over a library (``clipvi-tui search QUERY PATH ...``) -------------------------------


def video_paths(items: Sequence[str]) -> list[Path]:
    """The videos named by files, folders and globs, each once, in order.

    A plain path that is not a file is "video not found"; a folder or glob without videos says
    so (:class:`~clipvi_tui.core.library.LibraryError`).

    Raises:
        UsageError: for a file that does not exist.
        LibraryError: for a folder or glob without videos.
    """
    out: list[Path] = []
    for item in items:
        refuse_url(item)  # before Path turns http://host/a.mp4 into http:/host/a.mp4
        if wants_library([item]):
            out.extend(find_videos([item]))
            continue
        path = Path(item).expanduser()
        if not path.is_file():
            raise UsageError(f"video not found: {path}")
        out.append(path)
    return list(dict.fromkeys(out))


def video_vectors(settings: Settings, video: Path, client: EmbeddingClient) -> VideoVectors:
    """Index ``video`` if needed (progress on stderr) and read its sampled frames' vectors."""
    result = run_index(settings, video, [], client=client)
    with EmbeddingCache(settings.cache_dir) as cache:
        idx, vecs = cache.frame_matrix(result.fingerprint, client.model_id, client.preprocess_tag)
    matrix = sampled_vectors(result.sampled, idx, vecs)
    return VideoVectors(str(video), result.sampled, result.times, matrix)


def searchable_vectors(
    settings: Settings, videos: Sequence[Path], client: EmbeddingClient
) -> tuple[dict[Path, VideoVectors], list[VideoIndexed]]:
    """Index what is missing, then every video's vectors, ready for search.

    One video gets its own progress bar; several are indexed as a library (one overall bar, a
    line per video). A video that cannot be read is left out and returned among the failures.

    Returns:
        ``(vectors by video, videos that could not be indexed)``.
    """
    if len(videos) == 1:
        return {videos[0]: video_vectors(settings, videos[0], client)}, []
    failed = index_library(settings, videos, [], client=client).failed
    left_out = {v.path for v in failed}
    with EmbeddingCache(settings.cache_dir) as cache:
        entries = scan_library(
            [v for v in videos if v not in left_out],
            cache,
            client.model_id,
            client.preprocess_tag,
            settings.sample_fps,
        )
        vectors = {
            e.path: entry_vectors(
                cache, e, client.model_id, client.preprocess_tag, settings.sample_fps
            )
            for e in entries
            if e.error is None
        }
    return vectors, failed
