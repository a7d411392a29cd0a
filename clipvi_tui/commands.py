"""The headless commands behind ``clipvi-tui index`` and ``clipvi-tui export``.

They print progress to stderr and results to stdout or a file; ``cli.py`` turns their exceptions
into one-line messages and exit codes.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import (
    BadRequest,
    EmbeddingClient,
    InferenceEmbeddingClient,
    ServerUnreachable,
    server_answers,
)
from clipvi_tui.core.indexer import Indexer, Progress, cached_scores, prompt_vectors
from clipvi_tui.core.similarity import ScoreTable


class IndexingFailed(Exception):
    """Indexing stopped before every frame was embedded; ``str()`` says why."""


class Interrupted(Exception):
    """The user pressed Ctrl-C; what was embedded is cached."""


def make_client(settings: Settings) -> InferenceEmbeddingClient:
    """The inference-sdk client the settings describe."""
    return InferenceEmbeddingClient(
        api_url=settings.api_url, api_key=settings.api_key, clip_version=settings.clip_version
    )


class ProgressBar:
    """A one-line progress bar on stderr (plain lines every few seconds when not a terminal)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.tty = stream.isatty()
        self._last = 0.0
        self._lock = threading.Lock()
        self.started = time.monotonic()

    def update(self, p: Progress) -> None:
        """Redraw, at most 10 times a second (every 2 s without a terminal)."""
        now = time.monotonic()
        with self._lock:
            if not p.finished and now - self._last < (0.1 if self.tty else 2.0):
                return
            self._last = now
            frac = p.done / p.total if p.total else 1.0
            width = 30
            fill = int(frac * width)
            bar = "#" * fill + "." * (width - fill)
            note = f"  ({p.error})" if p.state == "retrying" and p.error else ""
            line = (
                f"{self.label} [{bar}] {p.done}/{p.total} frames {frac:6.1%}  "
                f"{p.frames_per_s:6.1f} frames/s{note}"
            )
            if self.tty:
                self.stream.write("\r\x1b[2K" + line)
                if p.finished:
                    self.stream.write("\n")
            else:
                self.stream.write(line + "\n")
            self.stream.flush()


@contextmanager
def cancel_on_sigint(indexer: Indexer) -> Iterator[None]:
    """Turn Ctrl-C into a clean cancel: stop decoding, keep what was embedded."""
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: object) -> None:
        indexer.cancel()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (tests): no signal handling needed
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def checked_prompt_vectors(
    client: EmbeddingClient, cache: EmbeddingCache, prompts: list[str]
) -> np.ndarray:
    """Like :func:`prompt_vectors`, but a rejected prompt is named in the error.

    Raises:
        BadRequest: naming the first prompt the server rejected (e.g. over 77 tokens).
    """
    try:
        return prompt_vectors(client, cache, prompts)
    except BadRequest as exc:
        for p in prompts:
            try:
                prompt_vectors(client, cache, [p])
            except BadRequest:
                short = p if len(p) <= 40 else p[:37] + "..."
                raise BadRequest(
                    f"prompt {short!r} was rejected by the server; CLIP prompts must fit in "
                    "77 tokens (about 50-60 words)"
                ) from exc
        raise


def ensure_reachable(client: EmbeddingClient) -> None:
    """Fail at once, not after a minute of retries, when no server answers at all.

    Raises:
        ServerUnreachable: if the client has an ``api_url`` and nothing answers there.
    """
    url = getattr(client, "api_url", None)
    if url and not server_answers(url, timeout=2.0):
        raise ServerUnreachable(f"cannot reach the Inference server at {url}")


@dataclass
class IndexResult:
    """What one indexing run did."""

    progress: Progress
    fingerprint: str
    sampled: np.ndarray
    seconds: float
    embedded_now: int
    times: np.ndarray  # seconds of each sampled frame


def run_index(
    settings: Settings,
    video: Path,
    prompts: list[str],
    *,
    client: EmbeddingClient | None = None,
    stderr: TextIO | None = None,
    quiet: bool = False,
) -> IndexResult:
    """Embed every sampled frame of ``video`` and the prompts, reusing the cache.

    Raises:
        IndexingFailed: when the server fails for good.
        Interrupted: on Ctrl-C (what was embedded stays cached).
        EmbeddingError, VideoError, CacheError: as raised by the core.
    """
    client = client or make_client(settings)
    with EmbeddingCache(settings.cache_dir) as cache:
        if prompts:
            found, _ = cache.get_texts(client.model_id, prompts)
            if not found.all():
                ensure_reachable(client)
            checked_prompt_vectors(client, cache, prompts)
        # sys.stderr is looked up now, not at import: tests and callers may have replaced it.
        bar = None if quiet else ProgressBar(stderr or sys.stderr, video.name)
        indexer = Indexer(
            video,
            client,
            cache,
            sample_fps=settings.sample_fps,
            on_progress=bar.update if bar else None,
        )
        before = indexer.done
        if before < indexer.total:
            ensure_reachable(client)
        t0 = time.monotonic()
        with cancel_on_sigint(indexer):
            final = indexer.run()
        seconds = time.monotonic() - t0
        if final.state == "cancelled":
            raise Interrupted(f"interrupted: {final.done}/{final.total} frames cached")
        if final.state == "failed":
            raise indexer.last_exception or IndexingFailed(final.error or "indexing failed")
        return IndexResult(
            final,
            indexer.fingerprint,
            indexer.sampled,
            seconds,
            final.done - before,
            indexer.info.times_of(indexer.sampled),
        )


def scores_for(
    settings: Settings,
    video: Path,
    prompts: list[str],
    *,
    client: EmbeddingClient | None = None,
    stderr: TextIO | None = None,
    quiet: bool = False,
) -> ScoreTable:
    """Index what is missing, then score every sampled frame against ``prompts``."""
    client = client or make_client(settings)
    result = run_index(settings, video, prompts, client=client, stderr=stderr, quiet=quiet)
    with EmbeddingCache(settings.cache_dir) as cache:
        texts = prompt_vectors(client, cache, prompts)
        return cached_scores(
            cache, client, result.fingerprint, result.sampled, prompts, texts, result.times
        )


def format_csv(table: ScoreTable) -> str:
    """CSV: ``frame,time_s,<prompt>,...``; one row per sampled frame; cosine to 6 decimals."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["frame", "time_s", *table.prompts])
    for row, (frame, seconds) in enumerate(zip(table.frames, table.times, strict=True)):
        values = [
            "" if np.isnan(v) else f"{v:.6f}" for v in table.scores[row]
        ]  # empty = not embedded
        writer.writerow([int(frame), f"{seconds:.6f}", *values])
    return buf.getvalue()


def format_json(table: ScoreTable, video: Path, model: str, sample_fps: float | None) -> str:
    """JSON with the video, model, sampling, frames, times and one score list per prompt."""

    def clean(col: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v), 6) for v in col]

    doc = {
        "video": str(video),
        "model": model,
        "sample_fps": "all" if sample_fps is None else sample_fps,
        "frames": [int(f) for f in table.frames],
        "time_s": [round(float(t), 6) for t in table.times],
        "scores": {p: clean(table.scores[:, i]) for i, p in enumerate(table.prompts)},
    }
    return json.dumps(doc, indent=1) + "\n"
