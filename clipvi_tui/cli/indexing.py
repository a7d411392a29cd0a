"""The headless pipeline behind ``clipvi-tui index`` and ``export``: index what is missing, score.

Progress goes to stderr; ``cli.errors`` turns the exceptions into one-line messages and exit
codes. Benchmarks and integration tests call these functions directly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from clipvi_tui.cli.errors import IndexingFailed, Interrupted
from clipvi_tui.cli.progress import ProgressBar, cancel_on_sigint
from clipvi_tui.config import Settings
from clipvi_tui.core.cache import EmbeddingCache
from clipvi_tui.core.embeddings import (
    BadRequest,
    EmbeddingClient,
    ServerUnreachable,
    server_answers,
)
from clipvi_tui.core.indexer import Indexer, Progress, cached_scores, prompt_vectors
from clipvi_tui.core.prompts import ensemble_vectors, prompt_parts
from clipvi_tui.core.servers import ServerPool
from clipvi_tui.core.similarity import ScoreTable
from clipvi_tui.core.video import VideoInfo


def make_client(settings: Settings, on_event: Callable[[str], None] | None = None) -> ServerPool:
    """The client the settings describe: a pool over every configured Inference server.

    Args:
        settings: validated settings (``servers``, key, model).
        on_event: told what a user should know about the servers (one set aside, back, a
            smaller batch that works); default: a line on stderr.
    """
    return ServerPool(
        settings.server_specs(),
        api_key=settings.api_key,
        clip_version=settings.clip_version,
        on_event=on_event or say_on_stderr,
    )


def say_on_stderr(text: str) -> None:
    """Print ``clipvi-tui: text`` on stderr (looked up now: tests replace sys.stderr)."""
    print(f"clipvi-tui: {text}", file=sys.stderr)


def servers_label(client: EmbeddingClient) -> Callable[[], str] | None:
    """A function giving ``servers 2/3`` for a pool's progress line (None for other clients)."""
    health = getattr(client, "health", None)
    if health is None:
        return None

    def label() -> str:
        h = health()
        return f"servers {h.up}/{h.total}"

    return label


@contextmanager
def notes_above(bar: ProgressBar | None, client: EmbeddingClient) -> Iterator[None]:
    """While a bar is drawn, a pool's news goes above it instead of through it."""
    previous = getattr(client, "on_event", None)
    if bar is None or not isinstance(client, ServerPool):
        yield
        return
    client.on_event = lambda text: bar.note(f"clipvi-tui: {text}")
    try:
        yield
    finally:
        client.on_event = previous


def prepare_servers(client: EmbeddingClient) -> None:
    """Before work that needs a server: fail fast when none answers, refuse disagreeing ones.

    Raises:
        ServerUnreachable: if no server answers at all.
        ServerMismatch: if the servers compute different vectors (a pool checks by probe).
    """
    ensure_reachable(client)
    verify = getattr(client, "verify", None)
    if verify is not None:
        verify()


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
    urls = getattr(client, "api_urls", None) or [getattr(client, "api_url", None)]
    urls = [u for u in urls if u]
    if urls and not any(server_answers(u, timeout=2.0) for u in urls):
        where = urls[0] if len(urls) == 1 else f"any of {', '.join(urls)}"
        raise ServerUnreachable(f"cannot reach the Inference server at {where}")


def text_vectors(settings: Settings, client: EmbeddingClient, prompts: list[str]) -> np.ndarray:
    """``[P, D]`` vectors of ``prompts`` (ensembles averaged), cache first.

    Raises:
        ServerUnreachable: if a part is not cached and no server answers.
        BadRequest: naming a part the server rejected.
    """
    texts = list(dict.fromkeys(part for p in prompts for part in prompt_parts(p)))
    with EmbeddingCache(settings.cache_dir) as cache:
        found, _ = cache.get_texts(client.model_id, texts)
        if not found.all():
            ensure_reachable(client)
        return ensemble_vectors(prompts, lambda parts: checked_prompt_vectors(client, cache, parts))


@dataclass
class IndexResult:
    """What one indexing run did."""

    progress: Progress
    fingerprint: str
    sampled: np.ndarray
    seconds: float
    embedded_now: int
    times: np.ndarray  # seconds of each sampled frame
    info: VideoInfo | None = None  # the video's metadata, as the indexer probed it


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
    # An ensemble ("a dog | a puppy") is embedded and cached part by part.
    texts = list(dict.fromkeys(part for p in prompts for part in prompt_parts(p)))
    with EmbeddingCache(settings.cache_dir) as cache:
        if texts:
            found, _ = cache.get_texts(client.model_id, texts)
            if not found.all():
                ensure_reachable(client)
            checked_prompt_vectors(client, cache, texts)
        # sys.stderr is looked up now, not at import: tests and callers may have replaced it.
        bar = (
            None
            if quiet
            else ProgressBar(stderr or sys.stderr, video.name, servers=servers_label(client))
        )
        indexer = Indexer(
            video,
            client,
            cache,
            sample_fps=settings.sample_fps,
            on_progress=bar.update if bar else None,
        )
        before = indexer.done
        if before < indexer.total:
            prepare_servers(client)
        t0 = time.monotonic()
        with cancel_on_sigint(indexer), notes_above(bar, client):
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
            indexer.info,
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
    """Index what is missing, then score every sampled frame against ``prompts``.

    An ensemble prompt (``a dog | a puppy``) is scored with the normalised mean of its parts.
    """
    client = client or make_client(settings)
    result = run_index(settings, video, prompts, client=client, stderr=stderr, quiet=quiet)
    with EmbeddingCache(settings.cache_dir) as cache:
        texts = ensemble_vectors(prompts, lambda parts: prompt_vectors(client, cache, parts))
        return cached_scores(
            cache, client, result.fingerprint, result.sampled, prompts, texts, result.times
        )
